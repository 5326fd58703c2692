/*
 * sigcount - checks that no signal is lost while crest freezes the process.
 *
 * A sender thread sigqueue()s SIGRTMIN+1 to the process every 500 us and
 * counts the successful sends; a handler (run by the main thread, the only
 * one not blocking it) counts deliveries.  Realtime signals queue, so every
 * send must be delivered exactly once.  SIGUSR2 is blocked in the main
 * thread and raised once, so it stays pending there for the whole run.
 *
 * Prints "pid=<pid> ready", then "sent=<a> received=<b>" every 100 ms.  On
 * SIGTERM it stops the sender, waits up to 2 s for deliveries to catch up,
 * prints "final sent=<a> received=<b> usr2_pending=<0|1>" and exits 0 if
 * sent == received and SIGUSR2 is still pending, else 1.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_ulong sent;
static atomic_ulong received;
static atomic_int stop_sender;
static volatile sig_atomic_t got_term;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	atomic_fetch_add(&received, 1);
}

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void *sender(void *arg)
{
	pid_t pid = getpid();
	int signo = SIGRTMIN + 1;
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	while (!atomic_load(&stop_sender)) {
		struct timespec ts = { 0, 500 * 1000 };
		union sigval v;

		v.sival_int = (int)(atomic_load(&sent) & 0x7fffffff);
		if (sigqueue(pid, signo, v) == 0) {
			atomic_fetch_add(&sent, 1);
		} else if (errno != EAGAIN) {
			fprintf(stderr, "sigcount: sigqueue: %s\n", strerror(errno));
			_exit(2);
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !got_term)
		;
}

int main(void)
{
	struct sigaction sa;
	sigset_t set, pend;
	pthread_t th;
	unsigned long s, r;
	int rc, usr2;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN + 1, &sa, NULL) != 0) {
		perror("sigcount: sigaction");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0) {
		perror("sigcount: sigaction");
		return 2;
	}

	/* SIGUSR2 stays pending on the main thread (the sender inherits the
	 * mask but raise() targets this thread only). */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);

	rc = pthread_create(&th, NULL, sender, NULL);
	if (rc != 0) {
		fprintf(stderr, "sigcount: pthread_create: %s\n", strerror(rc));
		return 2;
	}
	printf("pid=%d ready\n", (int)getpid());
	fflush(stdout);

	while (!got_term) {
		sleep_ms(100);
		printf("sent=%lu received=%lu\n", atomic_load(&sent), atomic_load(&received));
		fflush(stdout);
	}

	atomic_store(&stop_sender, 1);
	pthread_join(th, NULL);
	for (int i = 0; i < 200 && atomic_load(&received) != atomic_load(&sent); i++)
		sleep_ms(10);
	s = atomic_load(&sent);
	r = atomic_load(&received);
	sigemptyset(&pend);
	sigpending(&pend);
	usr2 = sigismember(&pend, SIGUSR2) == 1;
	printf("final sent=%lu received=%lu usr2_pending=%d\n", s, r, usr2);
	fflush(stdout);
	return (s == r && s > 0 && usr2) ? 0 : 1;
}
