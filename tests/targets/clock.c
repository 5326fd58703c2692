/*
 * clock - calls the vDSO's clock functions in a loop and checks them.
 *
 * Every 50 ms: clock_gettime(CLOCK_MONOTONIC and CLOCK_REALTIME),
 * gettimeofday() and time(), through glibc, which calls the vDSO.  Prints
 * "pid=<pid> ready", then "tick=<n> mono=<ns>" lines.  If the monotonic
 * clock goes backwards, or the realtime clock, gettimeofday() and time()
 * disagree by more than 2 s, it prints "CLOCK FAIL: ..." to stderr and
 * exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec last = {0, 0};
	printf("pid=%d ready\n", (int)getpid());
	fflush(stdout);
	for (unsigned long n = 0;; n++) {
		struct timespec mono, real;
		struct timeval tv;
		if (clock_gettime(CLOCK_MONOTONIC, &mono) || clock_gettime(CLOCK_REALTIME, &real) ||
		    gettimeofday(&tv, NULL)) {
			fprintf(stderr, "CLOCK FAIL: a clock call failed\n");
			return 1;
		}
		time_t t = time(NULL);
		if (mono.tv_sec < last.tv_sec || (mono.tv_sec == last.tv_sec && mono.tv_nsec < last.tv_nsec)) {
			fprintf(stderr, "CLOCK FAIL: CLOCK_MONOTONIC went backwards\n");
			return 1;
		}
		if (labs(real.tv_sec - tv.tv_sec) > 2 || labs(real.tv_sec - t) > 2) {
			fprintf(stderr, "CLOCK FAIL: realtime %ld, gettimeofday %ld, time %ld disagree\n", (long)real.tv_sec,
				(long)tv.tv_sec, (long)t);
			return 1;
		}
		last = mono;
		printf("tick=%lu mono=%lld\n", n, (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec);
		fflush(stdout);
		usleep(50000);
	}
}
