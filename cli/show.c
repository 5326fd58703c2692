/*
 * show.c - `crest show DIR [--json]`
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_show(struct cli_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	enum crest_describe_format fmt = CREST_DESCRIBE_TEXT;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': fmt = CREST_DESCRIBE_JSON; break;
		case 'h': printf("usage: crest show DIR [--json]\n"); return 0;
		default: return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "crest: usage: crest show DIR [--json]\n");
		return 2;
	}
	crest_ctx *ctx = cli_ctx(g);
	if (!ctx)
		return 1;
	crest_image *img = NULL;
	crest_error *err = NULL;
	char *out = NULL;
	int ret = crest_image_open(ctx, argv[optind], &img, &err);
	if (ret == 0)
		ret = crest_image_describe(img, fmt, &out, &err);
	crest_image_close(img);
	crest_ctx_free(ctx);
	if (ret < 0)
		return cli_fail(err);
	fputs(out, stdout);
	if (fmt == CREST_DESCRIBE_JSON)
		fputc('\n', stdout);
	free(out);
	return 0;
}
