/*
 * dump.c - `crest dump -p PID -o DIR [--leave-running] [--skip-unsupported]`
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static volatile int cancel_flag;

static void on_signal(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double mib(uint64_t b)
{
	return (double)b / (1 << 20);
}

int cli_dump(struct cli_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'o'},
		{"leave-running", no_argument, NULL, 'R'},
		{"skip-unsupported", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct crest_dump_opts o = {.sz = sizeof(o)};
	const char *pid_arg = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:o:RSh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pid_arg = optarg; break;
		case 'o': o.dir = optarg; break;
		case 'R': o.flags |= CREST_DUMP_LEAVE_RUNNING; break;
		case 'S': o.flags |= CREST_DUMP_SKIP_UNSUPPORTED; break;
		case 'h':
			printf("usage: crest dump -p PID -o DIR [--leave-running] [--skip-unsupported]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!pid_arg || !o.dir || optind != argc) {
		fprintf(stderr, "crest: usage: crest dump -p PID -o DIR [--leave-running] [--skip-unsupported]\n");
		return 2;
	}
	char *end;
	errno = 0;
	long pid = strtol(pid_arg, &end, 10);
	if (errno || *end || pid <= 0 || pid > INT_MAX) {
		fprintf(stderr, "crest: '%s' is not a PID: give a positive number\n", pid_arg);
		return 2;
	}
	o.pid = (pid_t)pid;

	/* Ctrl-C or a TERM cancels cleanly: the target is resumed untouched
	 * and no image is left, instead of crest dying mid-dump. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	o.cancel = &cancel_flag;

	crest_ctx *ctx = cli_ctx(g);
	if (!ctx)
		return 1;
	struct crest_dump_stats st = {.sz = sizeof(st)};
	crest_error *err = NULL;
	int ret = crest_dump(ctx, &o, &st, &err);
	crest_ctx_free(ctx);
	if (ret < 0)
		return cli_fail(err);
	printf("dumped pid %d: %u threads, %u mappings (%.1f MiB mapped), %u fds%s; %.1f MiB of pages in a %.1f MiB image\n",
	       o.pid, st.threads, st.mappings, mib(st.bytes_mapped), st.fds,
	       st.fds_skipped ? " (some unsupported, recorded only)" : "", mib(st.bytes_pages), mib(st.bytes_written));
	printf("frozen %.1f ms, memory copy %.1f ms (%.2f GiB/s), total %.1f ms; %s\n", ms(st.frozen_ns), ms(st.memory_ns),
	       st.memory_ns ? (double)st.bytes_pages / (1 << 30) / ((double)st.memory_ns / 1e9) : 0.0, ms(st.total_ns),
	       (o.flags & CREST_DUMP_LEAVE_RUNNING) ? "the process was left running" : "the process was killed");
	return 0;
}
