/*
 * closefds - run a program with every fd above 2 closed.
 *
 * Usage: closefds PROGRAM [ARGS...].  bench.sh starts its targets through
 * this: an fd inherited from whoever runs the bench (a pipe, a socket)
 * would rightly make crest refuse the dump.  The program keeps this
 * process's pid.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: closefds PROGRAM [ARGS...]\n");
		return 2;
	}
	/* close_range() (Linux 5.9, glibc 2.34); a plain loop otherwise. */
	if (close_range(3, ~0U, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX);

		if (max < 0 || max > 1 << 20)
			max = 1 << 20;
		for (long fd = 3; fd < max; fd++)
			close((int)fd);
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "closefds: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
