/*
 * fds - a process with file descriptors of several kinds.
 *
 * Usage: fds FILE.  Opens FILE read-only and seeks it to offset 12345, opens
 * the directory "/", /dev/null and a pipe, prints
 * "reg=<fd> dir=<fd> null=<fd> pipe=<rfd>,<wfd>" and "pid=<pid> ready",
 * then waits forever.  The pipe makes a plain dump fail (unsupported kind).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int reg, dir, null, p[2];

	if (argc != 2) {
		fprintf(stderr, "usage: fds FILE\n");
		return 2;
	}
	reg = open(argv[1], O_RDONLY);
	if (reg < 0) {
		perror(argv[1]);
		return 2;
	}
	if (lseek(reg, 12345, SEEK_SET) != 12345) {
		perror("lseek");
		return 2;
	}
	dir = open("/", O_RDONLY | O_DIRECTORY);
	null = open("/dev/null", O_RDWR);
	if (dir < 0 || null < 0 || pipe(p) != 0) {
		perror("fds: open");
		return 2;
	}
	printf("reg=%d dir=%d null=%d pipe=%d,%d\n", reg, dir, null, p[0], p[1]);
	printf("pid=%d ready\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
