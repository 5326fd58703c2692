/*
 * sleeper - threads blocked in system calls.
 *
 * The main thread sleeps in nanosleep() for an hour at a time; a second
 * thread waits forever in FUTEX_WAIT.  Prints "pid=<pid> ready waiter=<tid>"
 * once the waiter is inside futex(2).  If nanosleep() ever returns early
 * (EINTR), "sleeper: nanosleep interrupted" goes to stderr: a dump that
 * leaves the process running must be invisible to it.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int futex_word;           /* never changes: the waiter never wakes */
static atomic_int waiter_tid;

static void *waiter(void *arg)
{
	(void)arg;
	atomic_store(&waiter_tid, (int)gettid());
	for (;;) {
		long rc = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);

		if (rc != 0 && errno != EINTR && errno != EAGAIN) {
			fprintf(stderr, "sleeper: futex: %s\n", strerror(errno));
			_exit(2);
		}
	}
	return NULL;
}

/* Is thread `tid` of this process inside system call `nr`? */
static int in_syscall(int tid, long nr)
{
	char path[64], buf[256];
	FILE *f;
	long cur = -2;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		cur = strtol(buf, NULL, 10);
	fclose(f);
	return cur == nr;
}

int main(void)
{
	pthread_t th;
	int rc, tid, i;

	rc = pthread_create(&th, NULL, waiter, NULL);
	if (rc != 0) {
		fprintf(stderr, "sleeper: pthread_create: %s\n", strerror(rc));
		return 2;
	}
	for (i = 0; i < 5000; i++) {
		struct timespec ts = { 0, 1000 * 1000 };

		tid = atomic_load(&waiter_tid);
		if (tid != 0 && in_syscall(tid, SYS_futex))
			break;
		nanosleep(&ts, NULL);
	}
	if (i == 5000) {
		fprintf(stderr, "sleeper: waiter thread never reached futex()\n");
		return 2;
	}
	printf("pid=%d ready waiter=%d\n", (int)getpid(), tid);
	fflush(stdout);

	for (;;) {
		struct timespec req = { 3600, 0 }, rem;

		while (nanosleep(&req, &rem) != 0) {
			if (errno != EINTR) {
				fprintf(stderr, "sleeper: nanosleep: %s\n", strerror(errno));
				return 2;
			}
			fprintf(stderr, "sleeper: nanosleep interrupted\n");
			req = rem;
		}
	}
}
