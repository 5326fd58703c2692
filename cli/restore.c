/*
 * restore.c - `crest restore -i DIR [--detach] [--shell-job]`
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int cli_restore(struct cli_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image", required_argument, NULL, 'i'},
		{"detach", no_argument, NULL, 'd'},
		{"shell-job", no_argument, NULL, 'j'},
		{"pidns", no_argument, NULL, 'n'},
		{"route-vdso", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct crest_restore_opts o = {.sz = sizeof(o), .stdio = {-1, -1, -1}};
	bool detach = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:djh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o.dir = optarg; break;
		case 'd': detach = true; break;
		case 'j': o.flags |= CREST_RESTORE_SHELL_JOB; break;
		case 'n': o.flags |= CREST_RESTORE_PIDNS; break;
		case 'V': o.flags |= CREST_RESTORE_ROUTE_VDSO; break;
		case 'h':
			printf("usage: crest restore -i DIR [--detach] [--shell-job] [--pidns]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!o.dir || optind != argc) {
		fprintf(stderr, "crest: usage: crest restore -i DIR [--detach] [--shell-job] [--pidns]\n");
		return 2;
	}
	crest_ctx *ctx = cli_ctx(g);
	if (!ctx)
		return 1;
	struct crest_restore_stats st = {.sz = sizeof(st)};
	crest_error *err = NULL;
	int ret = crest_restore(ctx, &o, &st, &err);
	crest_ctx_free(ctx);
	if (ret < 0)
		return cli_fail(err);
	fprintf(stderr, "crest: restored pid %d: %u threads, %u mappings, %.1f MiB of pages in %.1f ms (memory %.1f ms)\n",
		st.pid, st.threads, st.mappings, (double)st.bytes_pages / (1 << 20), (double)st.total_ns / 1e6,
		(double)st.memory_ns / 1e6);
	if (detach)
		return 0;
	/* Stay its parent: wait, pass on TERM/INT/HUP, exit as it did. */
	child = st.child;
	struct sigaction sa = {.sa_handler = forward};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int ws;
	while (waitpid(st.child, &ws, 0) < 0) {
		if (errno != EINTR) {
			perror("crest: waitpid");
			return 1;
		}
	}
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return WEXITSTATUS(ws);
}
