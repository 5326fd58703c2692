/*
 * counter - the simplest crest target.
 *
 * Prints "pid=<pid> ready" once, then "n=<n>" every 100 ms, forever.  The
 * current value is also kept in the global `counter_value` so that a
 * debugger reading a core image can find it.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long counter_value;

int main(void)
{
	unsigned n = 0;

	printf("pid=%d ready\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		counter_value = n;
		printf("n=%u\n", n);
		fflush(stdout);
		n++;
		nanosleep(&ts, NULL);
	}
}
