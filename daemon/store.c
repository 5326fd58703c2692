/*
 * store.c - the checkpoint store: STORE/LABEL/ID holds one image
 * (crest.core) and its metadata (meta.json).  A checkpoint is written as
 * STORE/LABEL/.tmp-ID and renamed into place only when complete, so a
 * crash never leaves one that looks complete.  Everything is mode 0700.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crestd.h"

void store_path(struct crestd *d, const struct comp *c, unsigned id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%u", d->cfg.store, c->label, id);
}

int store_prepare(struct crestd *d, const struct comp *c, char *err, size_t errlen)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", d->cfg.store, c->label);
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
		return -errno;
	}
	chmod(p, 0700);
	return 0;
}

static int cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

int store_list(struct crestd *d, const struct comp *c, unsigned **ids, size_t *n)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", d->cfg.store, c->label);
	*ids = NULL;
	*n = 0;
	DIR *dir = opendir(p);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long v = strtoul(de->d_name, &end, 10);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || v > 0xffffffffu)
			continue; /* ".tmp-N", "log", ... */
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			unsigned *nv = realloc(*ids, cap * sizeof(unsigned));
			if (!nv) {
				closedir(dir);
				return -ENOMEM;
			}
			*ids = nv;
		}
		(*ids)[(*n)++] = (unsigned)v;
	}
	closedir(dir);
	if (*n > 1)
		qsort(*ids, *n, sizeof(unsigned), cmp_u);
	return 0;
}

int store_latest(struct crestd *d, const struct comp *c, unsigned *id)
{
	unsigned *ids;
	size_t n;
	int r = store_list(d, c, &ids, &n);
	if (r < 0)
		return r;
	if (!n) {
		free(ids);
		return -ENOENT;
	}
	*id = ids[n - 1];
	free(ids);
	return 0;
}

/* Remove a directory holding only files. */
static int rm_dir(const char *p)
{
	DIR *dir = opendir(p);
	if (!dir)
		return -errno;
	struct dirent *de;
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(dir), de->d_name, 0);
	closedir(dir);
	return rmdir(p) < 0 ? -errno : 0;
}

int store_delete(struct crestd *d, const struct comp *c, unsigned id)
{
	char p[4096], tmp[4096];
	store_path(d, c, id, p, sizeof(p));
	/* out of sight first, then removed */
	snprintf(tmp, sizeof(tmp), "%s/%s/.del-%u", d->cfg.store, c->label, id);
	if (rename(p, tmp) < 0)
		return -errno;
	return rm_dir(tmp);
}

void store_retain(struct crestd *d, const struct comp *c)
{
	if (!c->keep)
		return;
	unsigned *ids;
	size_t n;
	if (store_list(d, c, &ids, &n) < 0)
		return;
	for (size_t i = 0; i + c->keep < n; i++)
		store_delete(d, c, ids[i]);
	free(ids);
}
