/*
 * check.c - `crest check DIR`: is the image intact and restorable here?
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_check(struct cli_global *g, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "crest: usage: crest check DIR\n");
		return 2;
	}
	crest_ctx *ctx = cli_ctx(g);
	if (!ctx)
		return 1;
	crest_image *img = NULL;
	crest_error *err = NULL;
	int ret = crest_image_open(ctx, argv[1], &img, &err);
	if (ret == 0)
		ret = crest_image_check(img, &err);
	crest_image_close(img);
	crest_ctx_free(ctx);
	if (ret < 0)
		return cli_fail(err);
	printf("%s: image intact (version, every checksum), mapped files unchanged, CPU features present\n", argv[1]);
	return 0;
}
