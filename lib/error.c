/*
 * error.c - the error object and the log callback (docs/error-handling.md).
 */
#include <time.h>
#include <fcntl.h>
#include "internal.h"

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

/* Store a new error in *err unless one is already there: the innermost
 * failure is the one worth keeping, outer layers only add context. */
static void store(crest_error **err, int code, char *msg)
{
	if (!err || *err) {
		free(msg);
		return;
	}
	crest_error *e = calloc(1, sizeof(*e));
	if (!e) {
		free(msg);
		return;
	}
	e->code = code;
	e->msg = msg ? msg : strdup("out of memory while reporting an error");
	*err = e;
}

int crest_err(crest_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	if (code <= 0)
		code = EIO;
	store(err, code, msg);
	return -code;
}

int crest_err_sys(crest_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	if (code <= 0)
		code = EIO;
	char *full = NULL;
	if (msg && asprintf(&full, "%s: %s", msg, strerror(code)) < 0)
		full = NULL;
	free(msg);
	store(err, code, full);
	return -code;
}

int crest_err_wrap(crest_error **err, int ret, const char *fmt, ...)
{
	if (!err || !*err)
		return ret;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	char *full = NULL;
	if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return -(*err)->code;
}

int crest_error_code(const crest_error *err)
{
	return err ? err->code : 0;
}

const char *crest_error_message(const crest_error *err)
{
	return err && err->msg ? err->msg : "no error";
}

void crest_error_free(crest_error *err)
{
	if (!err)
		return;
	free(err->msg);
	free(err);
}

void crest_log(const crest_ctx *ctx, enum crest_log_level lvl, const char *fmt, ...)
{
	if (!ctx || !ctx->log_fn || lvl > ctx->log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	if (msg)
		ctx->log_fn(lvl, msg, ctx->log_userdata);
	free(msg);
}

int crest_ctx_new(const struct crest_ctx_opts *opts, crest_ctx **out, crest_error **err)
{
	crest_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return crest_err(err, ENOMEM, "allocating the crest context");
	ctx->log_level = CREST_LOG_WARN;
	if (opts) {
		if (opts->sz < offsetof(struct crest_ctx_opts, log_level) + sizeof(opts->log_level)) {
			free(ctx);
			return crest_err(err, EINVAL, "crest_ctx_opts.sz is %zu, too small: set it to sizeof(struct crest_ctx_opts)",
					 opts->sz);
		}
		ctx->log_fn = opts->log_fn;
		ctx->log_userdata = opts->log_userdata;
		ctx->log_level = opts->log_level;
	}
	ctx->page_size = sysconf(_SC_PAGESIZE);
	*out = ctx;
	return 0;
}

void crest_ctx_free(crest_ctx *ctx)
{
	free(ctx);
}

const char *crest_version(void)
{
	return CREST_VERSION_STRING;
}

uint64_t crest_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

ssize_t crest_read_file_at(int dirfd, const char *path, char **out)
{
	cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, len = 0;
	cleanup_free char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			char *n = realloc(buf, cap * 2 + 1);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = steal_ptr(buf);
	return (ssize_t)len;
}

ssize_t crest_read_file(const char *path, char **out)
{
	return crest_read_file_at(AT_FDCWD, path, out);
}

int crest_grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	void **p = arr;
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	void *n = realloc(*p, ncap * sz);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = ncap;
	return 0;
}

int crest_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t w = pwrite(fd, p, len, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}
