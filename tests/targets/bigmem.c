/*
 * bigmem - a process with a known amount of touched memory.
 *
 * Usage: bigmem MIB [sparse].  Maps MIB MiB of private anonymous memory and
 * writes a pattern over every byte.  With "sparse", also maps 4 GiB
 * (PROT_READ|PROT_WRITE, MAP_NORESERVE, no transparent huge pages) and
 * touches only 10 MiB of it: ten 1 MiB pieces spread over the range, and
 * maps 64 MiB that it only reads (zero pages).
 * Prints "pid=<pid> ready" once everything is touched, then waits forever.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define SPARSE_SIZE (4096UL * MIB)
#define SPARSE_PIECES 10UL

/* Fill [p, p+len) with a pattern derived from the offset `base`. */
static void fill(uint64_t *p, size_t len, uint64_t base)
{
	for (size_t i = 0; i < len / sizeof(*p); i++)
		p[i] = (base + i * sizeof(*p)) * 0x9e3779b97f4a7c15ULL;
}

int main(int argc, char **argv)
{
	unsigned long mib;
	char *end;
	void *p;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "sparse") != 0)) {
		fprintf(stderr, "usage: bigmem MIB [sparse]\n");
		return 2;
	}
	errno = 0;
	mib = strtoul(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || mib > 1024UL * 1024UL) {
		fprintf(stderr, "bigmem: bad size '%s'\n", argv[1]);
		return 2;
	}
	if (mib > 0) {
		p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("bigmem: mmap");
			return 2;
		}
		fill(p, mib * MIB, 0);
	}
	if (argc == 3) {
		char *q = mmap(NULL, SPARSE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (q == MAP_FAILED) {
			perror("bigmem: mmap 4 GiB");
			return 2;
		}
		madvise(q, SPARSE_SIZE, MADV_NOHUGEPAGE);
		for (unsigned long i = 0; i < SPARSE_PIECES; i++) {
			size_t off = i * (SPARSE_SIZE / SPARSE_PIECES) & ~(MIB - 1);

			fill((uint64_t *)(void *)(q + off), MIB, off);
		}
		printf("sparse=%p-%p\n", (void *)q, (void *)(q + SPARSE_SIZE));

		/* 64 MiB that is only ever read: every page maps the kernel's
		 * shared zero page, which an image must not store. */
		volatile char *z = mmap(NULL, 64 * MIB, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (z == MAP_FAILED) {
			perror("bigmem: mmap 64 MiB");
			return 2;
		}
		madvise((void *)z, 64 * MIB, MADV_NOHUGEPAGE);
		unsigned long sum = 0;

		for (size_t off = 0; off < 64 * MIB; off += 4096)
			sum += (unsigned char)z[off];
		printf("zeroread=%p-%p sum=%lu\n", (void *)z, (void *)(z + 64 * MIB), sum);
	}
	printf("pid=%d ready\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
