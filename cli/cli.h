/*
 * cli.h - what the crest subcommands share.
 */
#ifndef CREST_CLI_H
#define CREST_CLI_H

#include "crest.h"

struct cli_global {
	int verbose;              /* -v count */
};

/* Each subcommand: returns the process exit status. */
int cli_dump(struct cli_global *g, int argc, char **argv);
int cli_show(struct cli_global *g, int argc, char **argv);
int cli_check(struct cli_global *g, int argc, char **argv);
int cli_restore(struct cli_global *g, int argc, char **argv);
/* ps, status, start, stop, checkpoint, restore LABEL, checkpoints, delete, logs: via crestd */
int cli_client(struct cli_global *g, int argc, char **argv);

/* A context whose log callback writes "crest: ..." lines to stderr. */
crest_ctx *cli_ctx(struct cli_global *g);

/* Print "crest: <message>" for err (and free it); return exit status 1. */
int cli_fail(crest_error *err);

#endif
