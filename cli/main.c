/*
 * main.c - the crest command line: dispatch to one file per subcommand.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: crest [-v] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  dump -p PID -o DIR [--leave-running] [--skip-unsupported]\n"
		"        freeze process PID and write its image to DIR/crest.core;\n"
		"        the process is killed afterwards unless --leave-running\n"
		"  show DIR [--json]\n"
		"        check an image and print what it holds\n"
		"  restore -i DIR [--detach] [--shell-job] [--pidns]\n"
		"        rebuild the process from its image; crest stays its parent and exits\n"
		"        with its status unless --detach\n"
		"  ps | status LABEL | start LABEL | stop LABEL | logs LABEL [--follow]\n"
		"  checkpoint LABEL [--leave-running] | restore LABEL [ID]\n"
		"  checkpoints LABEL | delete LABEL ID\n"
		"        talk to crestd (socket: $CREST_SOCKET, /run/crest/crestd.sock as root)\n"
		"  check DIR\n"
		"        check that an image is intact and can be restored on this machine\n"
		"  version\n"
		"\n"
		"An image is an ELF core file: gdb PROGRAM DIR/crest.core and readelf -n work on it.\n");
}

static void log_stderr(enum crest_log_level lvl, const char *msg, void *ud)
{
	(void)ud;
	static const char *const names[] = {"error", "warning", "info", "debug"};
	if (lvl <= CREST_LOG_WARN)
		fprintf(stderr, "crest: %s: %s\n", names[lvl], msg);
	else
		fprintf(stderr, "crest: %s\n", msg);
}

crest_ctx *cli_ctx(struct cli_global *g)
{
	struct crest_ctx_opts o = {
		.sz = sizeof(o),
		.log_fn = log_stderr,
		.log_level = g->verbose >= 2 ? CREST_LOG_DEBUG : g->verbose ? CREST_LOG_INFO : CREST_LOG_WARN,
	};
	crest_ctx *ctx = NULL;
	crest_error *err = NULL;
	if (crest_ctx_new(&o, &ctx, &err) < 0) {
		cli_fail(err);
		return NULL;
	}
	return ctx;
}

int cli_fail(crest_error *err)
{
	fprintf(stderr, "crest: %s\n", crest_error_message(err));
	crest_error_free(err);
	return 1;
}

int main(int argc, char **argv)
{
	struct cli_global g = {0};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			g.verbose++;
		else if (!strcmp(argv[i], "-vv"))
			g.verbose += 2;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "crest: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "dump"))
		return cli_dump(&g, argc, argv);
	if (!strcmp(cmd, "show"))
		return cli_show(&g, argc, argv);
	if (!strcmp(cmd, "restore")) {
		bool local = false; /* -i DIR: from an image; LABEL [ID]: through crestd */
		for (int k = 1; k < argc; k++)
			local |= !strcmp(argv[k], "-i") || !strncmp(argv[k], "--image", 7) || !strcmp(argv[k], "-h") ||
				 !strcmp(argv[k], "--help");
		return local || argc == 1 ? cli_restore(&g, argc, argv) : cli_client(&g, argc, argv);
	}
	static const char *const daemon_cmds[] = {"ps", "status", "start", "stop", "checkpoint", "checkpoints", "delete", "logs"};
	for (size_t k = 0; k < sizeof(daemon_cmds) / sizeof(daemon_cmds[0]); k++)
		if (!strcmp(cmd, daemon_cmds[k]))
			return cli_client(&g, argc, argv);
	if (!strcmp(cmd, "check"))
		return cli_check(&g, argc, argv);
	if (!strcmp(cmd, "version")) {
		printf("crest %s\n", crest_version());
		return 0;
	}
	fprintf(stderr, "crest: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
