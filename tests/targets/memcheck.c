/*
 * memcheck - a process whose whole state checks itself after a restore.
 *
 * Usage: memcheck MAPFILE OFFFILE APPENDFILE
 * Sets up memory patterns in the heap, an anonymous mapping, a read-only
 * and a PROT_NONE region, shared anonymous memory, written pages of a
 * private mapping of MAPFILE and 1000 one-page mappings; 8 threads counting
 * in thread-local storage; a SIGUSR1 handler on an alternate signal stack;
 * SIGUSR2 blocked and pending; an x87 control word and a value on the x87
 * register stack; OFFFILE open at offset 777 and APPENDFILE
 * open with O_APPEND (after writing "before\n").  Prints "pid=<pid> ready".
 * On SIGUSR1 it checks everything, joins the threads, appends "after\n",
 * prints "CHECK OK" (exit 0) or "CHECK FAIL: <what>" (exit 1).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NTHREADS 8
#define NSMALL 1000
#define PAGE 4096

static uint64_t pat(uint64_t seed, size_t i)
{
	return (seed + i) * 0x9e3779b97f4a7c15ULL;
}

static void fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	for (size_t i = 0; i < len / 8; i++)
		w[i] = pat(seed, i);
}

static int same(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;
	for (size_t i = 0; i < len / 8; i++)
		if (w[i] != pat(seed, i))
			return 0;
	return 1;
}

static __thread unsigned long tls_count;
static atomic_ulong seen[NTHREADS];
static atomic_int stop;
static volatile sig_atomic_t got_usr1;
static volatile sig_atomic_t on_altstack;
static char altstack[64 * 1024];

static void *worker(void *arg)
{
	long id = (long)arg;
	while (!atomic_load(&stop)) {
		tls_count++;
		if ((tls_count & 0xffff) == 0)
			atomic_store(&seen[id], tls_count);
	}
	atomic_store(&seen[id], tls_count);
	return (void *)tls_count;
}

static void on_usr1(int sig)
{
	char here;
	(void)sig;
	on_altstack = &here >= altstack && &here < altstack + sizeof(altstack);
	got_usr1 = 1;
}

#define FAIL(...) do { printf("CHECK FAIL: " __VA_ARGS__); printf("\n"); fflush(stdout); return 1; } while (0)

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: memcheck MAPFILE OFFFILE APPENDFILE\n");
		return 2;
	}
	size_t heap_len = 4 << 20, anon_len = 8 << 20;
	void *heap = malloc(heap_len);
	char *anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int mf = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (!heap || anon == MAP_FAILED || ro == MAP_FAILED || none == MAP_FAILED || shared == MAP_FAILED || mf < 0) {
		perror("memcheck: setup");
		return 2;
	}
	char buf[PAGE];
	memset(buf, 'A', sizeof(buf));
	for (int i = 0; i < 16; i++)
		if (write(mf, buf, sizeof(buf)) != sizeof(buf))
			return 2;
	char *fmap = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, mf, 0);
	close(mf);
	if (fmap == MAP_FAILED)
		return 2;
	fill(heap, heap_len, 1);
	fill(anon, anon_len, 2);
	fill(ro, 1 << 20, 3);
	mprotect(ro, 1 << 20, PROT_READ);
	fill(none, 64 << 10, 4);
	mprotect(none, 64 << 10, PROT_NONE);
	fill(shared, 1 << 20, 5);
	fill(fmap, 4 * PAGE, 6); /* pages 0-3 written, 4-15 still the file's 'A's */
	char *small[NSMALL];
	for (int i = 0; i < NSMALL; i++) {
		small[i] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (small[i] == MAP_FAILED)
			return 2;
		fill(small[i], PAGE, 100 + (uint64_t)i);
		if (i % 2)
			mprotect(small[i], PAGE, PROT_READ); /* keep them from merging */
	}
	int offd = open(argv[2], O_RDONLY);
	int appd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (offd < 0 || appd < 0 || lseek(offd, 777, SEEK_SET) != 777 || write(appd, "before\n", 7) != 7)
		return 2;

	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL) || sigprocmask(SIG_BLOCK, &usr2, NULL) ||
	    raise(SIGUSR2))
		return 2;
	/* Threads block SIGUSR1 so that the main thread handles it. */
	sigset_t u1;
	sigemptyset(&u1);
	sigaddset(&u1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &u1, NULL);
	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i))
			return 2;
	pthread_sigmask(SIG_UNBLOCK, &u1, NULL);
	printf("pid=%d ready\n", (int)getpid());
	fflush(stdout);

	/* x87: an unusual control word (round toward zero, 64-bit precision)
	 * and a value left on the register stack across the checkpoint.
	 * Nothing called until the check uses x87. */
	static const long double x87_val = 3.14159265358979323846264338327950288L;
	unsigned short cw_set = 0x0f7f, cw_got = 0;
	__asm__ volatile("fldcw %0" : : "m"(cw_set));
	__asm__ volatile("fldt %0" : : "m"(x87_val));

	while (!got_usr1)
		pause();

	long double x87_got;
	__asm__ volatile("fnstcw %0" : "=m"(cw_got));
	__asm__ volatile("fstpt %0" : "=m"(x87_got));
	unsigned short cw_default = 0x037f;
	__asm__ volatile("fldcw %0" : : "m"(cw_default));
	if (cw_got != cw_set) FAIL("x87 control word %#x, want %#x", cw_got, cw_set);
	if (memcmp(&x87_got, &x87_val, 10)) FAIL("x87 register stack lost its value");

	/* after the restore */
	if (!same(heap, heap_len, 1)) FAIL("heap");
	if (!same(anon, anon_len, 2)) FAIL("anonymous mapping");
	if (!same(ro, 1 << 20, 3)) FAIL("read-only region");
	if (mprotect(none, 64 << 10, PROT_READ) || !same(none, 64 << 10, 4)) FAIL("PROT_NONE region");
	if (!same(shared, 1 << 20, 5)) FAIL("shared anonymous memory");
	if (!same(fmap, 4 * PAGE, 6)) FAIL("written pages of the private file mapping");
	for (int i = 4 * PAGE; i < 16 * PAGE; i++)
		if (fmap[i] != 'A') FAIL("unwritten pages of the private file mapping (offset %d)", i);
	for (int i = 0; i < NSMALL; i++)
		if (!same(small[i], PAGE, 100 + (uint64_t)i)) FAIL("small mapping %d", i);
	if (!on_altstack) FAIL("the SIGUSR1 handler did not run on the alternate signal stack");
	sigset_t pend;
	if (sigpending(&pend) || !sigismember(&pend, SIGUSR2)) FAIL("pending SIGUSR2 lost");
	if (lseek(offd, 0, SEEK_CUR) != 777) FAIL("file offset %ld, want 777", (long)lseek(offd, 0, SEEK_CUR));
	atomic_store(&stop, 1);
	for (long i = 0; i < NTHREADS; i++) {
		void *ret;
		if (pthread_join(th[i], &ret)) FAIL("pthread_join %ld", i);
		if ((unsigned long)ret == 0 || (unsigned long)ret < atomic_load(&seen[i]) - 0x10000)
			FAIL("thread %ld: TLS counter %lu, last seen %lu", i, (unsigned long)ret, (unsigned long)atomic_load(&seen[i]));
	}
	if (write(appd, "after\n", 6) != 6) FAIL("append");
	char tail[32] = "";
	int rd = open(argv[3], O_RDONLY);
	ssize_t n = read(rd, tail, sizeof(tail) - 1);
	if (n != 13 || strcmp(tail, "before\nafter\n")) FAIL("O_APPEND file holds '%s'", tail);
	printf("CHECK OK\n");
	fflush(stdout);
	return 0;
}
