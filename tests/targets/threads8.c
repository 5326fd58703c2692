/*
 * threads8 - main thread plus 8 worker threads.
 *
 * Each worker runs worker_loop(): it increments a thread-local counter and
 * copies it into its slot of a global array, sleeping 10 ms between steps.
 * Prints "pid=<pid> ready" once all workers run, then stays in pause().
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 8

long magic_value = 0x12345678abcdefL;
volatile int threads_ready;
volatile unsigned long worker_slots[NWORKERS];

static __thread volatile unsigned long tls_counter;
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;

__attribute__((noinline)) void *worker_loop(void *arg);

__attribute__((noinline)) void *worker_loop(void *arg)
{
	size_t slot = (size_t)arg;

	pthread_mutex_lock(&ready_lock);
	threads_ready = threads_ready + 1;
	pthread_cond_signal(&ready_cond);
	pthread_mutex_unlock(&ready_lock);

	for (;;) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		tls_counter = tls_counter + 1;
		worker_slots[slot] = tls_counter;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[NWORKERS];

	for (size_t i = 0; i < NWORKERS; i++) {
		int rc = pthread_create(&th[i], NULL, worker_loop, (void *)i);

		if (rc != 0) {
			fprintf(stderr, "threads8: pthread_create: %s\n", strerror(rc));
			return 1;
		}
	}
	pthread_mutex_lock(&ready_lock);
	while (threads_ready < NWORKERS)
		pthread_cond_wait(&ready_cond, &ready_lock);
	pthread_mutex_unlock(&ready_lock);

	printf("pid=%d ready magic=%#lx\n", (int)getpid(), magic_value);
	fflush(stdout);
	for (;;)
		pause();
}
