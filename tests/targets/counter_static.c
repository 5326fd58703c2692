/*
 * counter_static - like counter, but linked -static (the name contains
 * "static"), with its loop in a function of its own so that a backtrace
 * from the core image names it.
 *
 * Prints "pid=<pid> ready", then "n=<n>" every 100 ms, forever.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

volatile long static_marker = 0x5eed1234;
volatile unsigned long static_counter;

__attribute__((noinline)) void static_spin(void);

__attribute__((noinline)) void static_spin(void)
{
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		static_counter = static_counter + 1;
		printf("n=%lu marker=%#lx\n", static_counter, (unsigned long)static_marker);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
}

int main(void)
{
	printf("pid=%d ready\n", (int)getpid());
	fflush(stdout);
	static_spin();
	return 0;
}
