/*
 * internal.h - what every libcrest module shares: the context, the error
 * helpers, logging, the cleanup macros and a few small utilities.
 *
 * Error convention (docs/error-handling.md): a function that can fail
 * returns 0 (or a non-negative count) on success and -errno on failure.
 * If it fails it also fills `*err` (when err != NULL and *err == NULL) with
 * crest_err(); a caller that adds context uses crest_err_wrap(), which
 * prefixes the message and returns the same -errno.
 */
#ifndef CREST_INTERNAL_H
#define CREST_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crest.h"

#define CREST_VERSION_STRING "0.1.0"

struct crest_ctx {
	crest_log_fn log_fn;
	void *log_userdata;
	enum crest_log_level log_level;
	long page_size;
};

struct crest_error {
	int code;  /* positive errno */
	char *msg;
};

/* Set *err (if err && !*err) to a new error with errno `code` and a
 * printf-style message; return -code. `code` must be positive. */
int crest_err(crest_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like crest_err() but appends ": strerror(code)" to the message. */
int crest_err_sys(crest_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message of *err with context ("context: old message") and
 * return -(*err)->code.  If there is no error object, return `ret`. */
int crest_err_wrap(crest_error **err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void crest_log(const crest_ctx *ctx, enum crest_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(ctx, ...) crest_log(ctx, CREST_LOG_ERROR, __VA_ARGS__)
#define log_warn(ctx, ...) crest_log(ctx, CREST_LOG_WARN, __VA_ARGS__)
#define log_info(ctx, ...) crest_log(ctx, CREST_LOG_INFO, __VA_ARGS__)
#define log_debug(ctx, ...) crest_log(ctx, CREST_LOG_DEBUG, __VA_ARGS__)

/* ---- cleanup macros: the only ones the project uses ------------------ */
static inline void crest_freep(void *p) { free(*(void **)p); }
static inline void crest_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void crest_fclosep(FILE **f) { if (*f) fclose(*f); }

#define cleanup_free __attribute__((cleanup(crest_freep)))
#define cleanup_close __attribute__((cleanup(crest_closep)))
#define cleanup_fclose __attribute__((cleanup(crest_fclosep)))

/* Return the value of p and set p to NULL/-1: hand ownership out of a
 * cleanup variable. */
#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define steal_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))

/* Monotonic clock in nanoseconds. */
uint64_t crest_now_ns(void);

/* Read a whole small file (e.g. under /proc) into a malloc'd NUL-terminated
 * buffer.  Returns the length or -errno (no error object: callers wrap). */
ssize_t crest_read_file(const char *path, char **out);

/* Like crest_read_file, relative to dirfd. */
ssize_t crest_read_file_at(int dirfd, const char *path, char **out);

/* Grow *arr (of element size `sz`) so it can hold at least `need` elements.
 * Returns 0 or -ENOMEM. */
int crest_grow(void *arr, size_t *cap, size_t need, size_t sz);

/* Write all of buf at offset off. Returns 0 or -errno. */
int crest_pwrite_all(int fd, const void *buf, size_t len, off_t off);

#endif
