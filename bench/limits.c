/*
 * limits - this machine's memory and tmpfs bandwidth, the ceilings a dump
 * is measured against.  Prints one machine-readable line per measurement:
 *
 *   memcpy GiB/s             memcpy of 1 GiB into already-touched memory
 *   tmpfs_write GiB/s        write() of 1 GiB in 4 MiB chunks into a new
 *                            file in /dev/shm (then unlinked)
 *   process_vm_readv GiB/s   1 GiB from a child process into a touched
 *                            buffer, in 4 MiB calls
 *
 * Each is the median of RUNS runs after one warm-up run.  Needs ~4 GiB of
 * memory (source, destination, the tmpfs file, the child's copy) and takes
 * a few seconds.  Exits non-zero if a measurement cannot be made.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GIB (1024UL * 1024UL * 1024UL)
#define SIZE GIB
#define CHUNK (4UL << 20)
#define RUNS 5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "limits: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *alloc_touched(unsigned char fill)
{
	char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap 1 GiB");
	/* Fault everything in with one call first: on this kind of VM a page
	 * fault taken from user space costs ~15 us (~4 s per GiB), populating
	 * from the kernel ~20 times less.  Older kernels: plain faults. */
	madvise(p, SIZE, MADV_POPULATE_WRITE);
	/* Data like a real process's, not one byte repeated: on this VM,
	 * memory that holds identical pages reads several times faster than
	 * memory that does not (measured: hashing 1 GiB of memset() data at
	 * ~15 GiB/s, of varied data at ~2 GiB/s), and crest moves real data. */
	uint64_t *w = (uint64_t *)(void *)p, x = 0x9e3779b97f4a7c15ull ^ fill;
	for (size_t i = 0; i < SIZE / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
	/* Not shared copy-on-write with the child of start_child(): the
	 * first process_vm_readv into it would copy every page. */
	if (madvise(p, SIZE, MADV_DONTFORK) < 0)
		die("madvise MADV_DONTFORK");
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median rate in GiB/s of RUNS timed runs (seconds in t[]). */
static double median_rate(double *t)
{
	qsort(t, RUNS, sizeof(*t), cmp_double);
	return (double)SIZE / GIB / t[RUNS / 2];
}

static double time_memcpy(char *dst, const char *src)
{
	double t0 = now();

	memcpy(dst, src, SIZE);
	/* Keep the copy from being optimised away. */
	__asm__ volatile("" : : "r"(dst) : "memory");
	return now() - t0;
}

/* Seconds for the write() calls; close and unlink (freeing the pages) are
 * not counted. */
static double time_tmpfs_write(const char *src)
{
	char path[] = "/dev/shm/crest-limits-XXXXXX";
	int fd = mkstemp(path);
	double t;

	if (fd < 0)
		die("mkstemp in /dev/shm");
	double t0 = now();
	for (size_t off = 0; off < SIZE;) {
		size_t len = SIZE - off < CHUNK ? SIZE - off : CHUNK;
		ssize_t n = write(fd, src + off, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			unlink(path);
			die("write to /dev/shm");
		}
		off += (size_t)n;
	}
	t = now() - t0;
	close(fd);
	unlink(path);
	return t;
}

static double time_vm_readv(pid_t pid, char *dst, uintptr_t remote)
{
	double t0 = now();

	for (size_t off = 0; off < SIZE;) {
		size_t len = SIZE - off < CHUNK ? SIZE - off : CHUNK;
		struct iovec l = {dst + off, len};
		struct iovec r = {(void *)(remote + off), len};
		ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			die("process_vm_readv");
		}
		off += (size_t)n;
	}
	return now() - t0;
}

/* A child with its own touched 1 GiB; its address comes back through a
 * pipe.  The child waits until killed. */
static pid_t start_child(uintptr_t *remote)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char *buf = alloc_touched(0x5a);
		uintptr_t a = (uintptr_t)buf;

		close(p[0]);
		if (write(p[1], &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], remote, sizeof(*remote)) != (ssize_t)sizeof(*remote)) {
		fprintf(stderr, "limits: child did not start\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		exit(1);
	}
	close(p[0]);
	return pid;
}

int main(void)
{
	double t[RUNS];
	char *src = alloc_touched(0xa5);
	char *dst = alloc_touched(0);

	time_memcpy(dst, src);
	for (int i = 0; i < RUNS; i++)
		t[i] = time_memcpy(dst, src);
	printf("memcpy %.2f\n", median_rate(t));
	fflush(stdout);

	time_tmpfs_write(src);
	for (int i = 0; i < RUNS; i++)
		t[i] = time_tmpfs_write(src);
	printf("tmpfs_write %.2f\n", median_rate(t));
	fflush(stdout);

	munmap(src, SIZE);
	uintptr_t remote;
	pid_t child = start_child(&remote);
	time_vm_readv(child, dst, remote);
	for (int i = 0; i < RUNS; i++)
		t[i] = time_vm_readv(child, dst, remote);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("process_vm_readv %.2f\n", median_rate(t));
	return 0;
}
