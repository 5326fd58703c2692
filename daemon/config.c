/*
 * config.c - the configuration file (docs/config.md), parsed with inih.
 *
 *   [crestd]                      optional daemon settings
 *   store = /var/lib/crest        checkpoints and logs
 *   socket = /run/crest/crestd.sock
 *   log_max_bytes = 1048576
 *   on_shutdown = stop | checkpoint
 *
 *   [component LABEL]             one per component
 *   command = /usr/bin/prog arg1 "arg two"
 *   environment = A=1 B=2
 *   cwd = /
 *   restart = no | on-failure | always | checkpoint
 *   checkpoint_interval = 60      seconds, 0 = none
 *   keep = 3                      checkpoints to keep, 0 = all
 *
 * Every error names the file and line (a section repeated later goes on
 * where the first one left off).
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wordexp.h>

#include "crestd.h"

struct parse {
	struct config *cfg;
	char msg[256];           /* what went wrong; inih tells the line */
};

bool crestd_label_ok(const char *label)
{
	size_t n = strlen(label);
	if (!n || n >= CRESTD_LABEL_MAX || !strcmp(label, ".") || !strcmp(label, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = label[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Split a command or environment line like a shell would, without running
 * anything (no command substitution). */
static char **split(const char *s, int *werr)
{
	wordexp_t we;
	*werr = wordexp(s, &we, WRDE_NOCMD | WRDE_UNDEF);
	if (*werr)
		return NULL;
	char **v = calloc(we.we_wordc + 1, sizeof(char *));
	for (size_t i = 0; v && i < we.we_wordc; i++)
		v[i] = strdup(we.we_wordv[i]);
	wordfree(&we);
	return v;
}

static void free_vec(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Note what is wrong and stop inih, which then returns the line. */
__attribute__((format(printf, 2, 3))) static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return 0;
}

/* The component for section "component LABEL", created on first use. */
static struct comp *comp_of(struct parse *p, const char *label)
{
	for (size_t i = 0; i < p->cfg->n; i++)
		if (!strcmp(p->cfg->comps[i].label, label))
			return &p->cfg->comps[i];
	struct comp *n = realloc(p->cfg->comps, (p->cfg->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->cfg->comps = n;
	struct comp *c = &n[p->cfg->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->label, sizeof(c->label), "%s", label);
	c->restart = RESTART_NO;
	c->log_r = c->log_w = c->log_fd = -1;
	return c;
}

static int daemon_setting(struct parse *p, const char *name, const char *value)
{
	struct config *c = p->cfg;
	if (!strcmp(name, "store")) {
		free(c->store);
		c->store = strdup(value);
	} else if (!strcmp(name, "socket")) {
		free(c->socket_path);
		c->socket_path = strdup(value);
	} else if (!strcmp(name, "log_max_bytes")) {
		char *end;
		c->log_max = strtoull(value, &end, 10);
		if (*end || !*value)
			return fail(p, "log_max_bytes must be a number of bytes, not '%s'", value);
	} else if (!strcmp(name, "on_shutdown")) {
		if (!strcmp(value, "checkpoint"))
			c->shutdown_checkpoint = true;
		else if (!strcmp(value, "stop"))
			c->shutdown_checkpoint = false;
		else
			return fail(p, "on_shutdown is 'stop' or 'checkpoint', not '%s'", value);
	} else {
		return fail(p, "unknown setting '%s' in [crestd]", name);
	}
	return 1;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	if (!strcmp(section, "crestd"))
		return daemon_setting(p, name, value);
	if (strncmp(section, "component ", 10))
		return fail(p, "unknown section [%s]; expected [crestd] or [component LABEL]", section);
	const char *label = section + 10;
	if (!crestd_label_ok(label))
		return fail(p, "bad label '%s': use letters, digits, '-', '_' and '.' (no '/', not '..')", label);
	struct comp *cp = comp_of(p, label);
	if (!cp)
		return fail(p, "out of memory");
	int werr = 0;
	if (!strcmp(name, "command")) {
		free_vec(cp->argv);
		cp->argv = split(value, &werr);
		if (!cp->argv || !cp->argv[0])
			return fail(p, "cannot split command '%s' into words%s", value,
				    werr == WRDE_CMDSUB ? " (command substitution is not allowed)" : "");
	} else if (!strcmp(name, "environment")) {
		free_vec(cp->envp);
		cp->envp = split(value, &werr);
		if (!cp->envp)
			return fail(p, "cannot split environment '%s'", value);
		for (size_t i = 0; cp->envp[i]; i++)
			if (!strchr(cp->envp[i], '='))
				return fail(p, "environment entry '%s' is not NAME=VALUE", cp->envp[i]);
	} else if (!strcmp(name, "cwd")) {
		free(cp->cwd);
		cp->cwd = strdup(value);
	} else if (!strcmp(name, "restart")) {
		static const char *const names[] = {"no", "on-failure", "always", "checkpoint"};
		size_t i = 0;
		while (i < 4 && strcmp(value, names[i]))
			i++;
		if (i == 4)
			return fail(p, "restart is no, on-failure, always or checkpoint, not '%s'", value);
		cp->restart = (enum restart_policy)i;
	} else if (!strcmp(name, "checkpoint_interval") || !strcmp(name, "keep")) {
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (*end || !*value || v > 1000000)
			return fail(p, "%s must be a whole number, not '%s'", name, value);
		if (!strcmp(name, "keep"))
			cp->keep = (unsigned)v;
		else
			cp->interval = (unsigned)v;
	} else {
		return fail(p, "unknown setting '%s' in [component %s]", name, cp->label);
	}
	return 1;
}

int crestd_config_load(const char *path, struct config *cfg, char *errbuf, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_max = 1 << 20;
	struct parse p = {.cfg = cfg};
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(errbuf, errlen, "%s: cannot open the configuration: %s", path, strerror(errno));
		return -ENOENT;
	}
	int r = ini_parse_file(f, on_entry, &p);
	fclose(f);
	if (r > 0) {
		snprintf(errbuf, errlen, "%s:%d: %s", path, r,
			 p.msg[0] ? p.msg : "syntax error (expected [section], NAME = VALUE or a comment)");
		return -EINVAL;
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: cannot read the configuration", path);
		return -EIO;
	}
	for (size_t i = 0; i < cfg->n; i++)
		if (!cfg->comps[i].argv) {
			snprintf(errbuf, errlen, "%s: component '%s' has no command", path, cfg->comps[i].label);
			return -EINVAL;
		}
	return 0;
}

void crestd_config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		free_vec(cfg->comps[i].argv);
		free_vec(cfg->comps[i].envp);
		free(cfg->comps[i].cwd);
	}
	free(cfg->comps);
	free(cfg->store);
	free(cfg->socket_path);
	memset(cfg, 0, sizeof(*cfg));
}
