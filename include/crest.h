/*
 * crest.h - public API of libcrest, checkpoint/restore of Linux processes.
 *
 * Conventions (docs/error-handling.md):
 *  - every exported symbol starts with crest_;
 *  - objects are opaque and created/destroyed by the library;
 *  - options and result structs start with their own size (`sz`), so that
 *    old callers keep working when fields are added at the end;
 *  - a function that can fail returns 0 or a negative errno and, when the
 *    caller passes a non-NULL `crest_error **`, stores an error object that
 *    says what went wrong, where, and what to do next.  The caller frees it
 *    with crest_error_free().
 *  - the library never exits and never prints; messages go to the log
 *    callback installed in the context.
 */
#ifndef CREST_H
#define CREST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CREST_API __attribute__((visibility("default")))

/* ---- errors ---------------------------------------------------------- */

typedef struct crest_error crest_error;

/* The errno value behind the error (positive), e.g. ESRCH, EPERM, ENOSPC. */
CREST_API int crest_error_code(const crest_error *err);
/* The full message, outermost context first. Valid until crest_error_free. */
CREST_API const char *crest_error_message(const crest_error *err);
CREST_API void crest_error_free(crest_error *err);

/* ---- context and logging -------------------------------------------- */

enum crest_log_level {
	CREST_LOG_ERROR = 0,
	CREST_LOG_WARN = 1,
	CREST_LOG_INFO = 2,
	CREST_LOG_DEBUG = 3,
};

typedef void (*crest_log_fn)(enum crest_log_level level, const char *msg, void *userdata);

struct crest_ctx_opts {
	size_t sz;               /* sizeof(struct crest_ctx_opts) */
	crest_log_fn log_fn;     /* NULL: messages are dropped */
	void *log_userdata;
	enum crest_log_level log_level; /* messages above this level are dropped */
};

typedef struct crest_ctx crest_ctx;

CREST_API int crest_ctx_new(const struct crest_ctx_opts *opts, crest_ctx **out, crest_error **err);
CREST_API void crest_ctx_free(crest_ctx *ctx);

/* The library's version, e.g. "0.1.0". */
CREST_API const char *crest_version(void);

/* ---- dump ------------------------------------------------------------ */

enum crest_dump_flags {
	/* Resume the target after the dump instead of killing it. */
	CREST_DUMP_LEAVE_RUNNING = 1u << 0,
	/* Record fds of unsupported kinds as such instead of failing. */
	CREST_DUMP_SKIP_UNSUPPORTED = 1u << 1,
	/* fds 0, 1 and 2 will be provided by whoever restores the process
	 * (crestd gives them its log pipe): record them whatever their kind. */
	CREST_DUMP_EXTERNAL_STDIO = 1u << 2,
};

struct crest_dump_opts {
	size_t sz;                /* sizeof(struct crest_dump_opts) */
	pid_t pid;                /* the process to dump */
	const char *dir;          /* image directory; created if missing */
	unsigned int flags;       /* enum crest_dump_flags */
	/* If non-NULL and it becomes non-zero (e.g. from a signal handler),
	 * the dump stops at the next safe point, resumes the target and fails
	 * with -ECANCELED. */
	volatile int *cancel;
};

struct crest_dump_stats {
	size_t sz;                /* set by the caller: sizeof(struct crest_dump_stats) */
	uint64_t frozen_ns;       /* how long the target's threads were stopped */
	uint64_t total_ns;        /* whole dump, including fsync */
	uint64_t memory_ns;       /* copying page contents */
	uint64_t bytes_written;   /* size of the image file */
	uint64_t bytes_pages;     /* page contents stored */
	uint64_t bytes_mapped;    /* total size of all mappings */
	uint32_t threads;
	uint32_t mappings;
	uint32_t fds;
	uint32_t fds_skipped;     /* unsupported fds marked (with SKIP_UNSUPPORTED) */
};

/* The name of the image file inside the image directory. */
#define CREST_IMAGE_FILE "crest.core"

/*
 * Freeze process opts->pid, write its state to opts->dir/crest.core and then
 * kill it (or resume it with CREST_DUMP_LEAVE_RUNNING).  On failure the
 * target is resumed as it was and no image file is left behind.  `stats`
 * may be NULL.
 */
CREST_API int crest_dump(crest_ctx *ctx, const struct crest_dump_opts *opts,
			 struct crest_dump_stats *stats, crest_error **err);

/* ---- restore --------------------------------------------------------- */

enum crest_restore_flags {
	/* Give fds 0, 1 and 2 of the caller to the restored process instead
	 * of the image's (a process restored onto the caller's terminal). */
	CREST_RESTORE_SHELL_JOB = 1u << 0,
	/* Restore into a new PID namespace, under a small init process of
	 * crest's, so that the image's PIDs are free even if the original
	 * still runs. */
	CREST_RESTORE_PIDNS = 1u << 1,
	/* Route the process's vDSO calls to this kernel's vDSO through
	 * trampolines even if the two vDSOs are identical.  Restore does this
	 * by itself when they differ; the flag lets that path be tested on
	 * one kernel. */
	CREST_RESTORE_ROUTE_VDSO = 1u << 2,
};

struct crest_restore_opts {
	size_t sz;                /* sizeof(struct crest_restore_opts) */
	const char *dir;          /* image directory (or the image file) */
	unsigned int flags;       /* enum crest_restore_flags */
	/* fds to use as the restored process's 0, 1, 2; -1: the image's own
	 * if crest can reopen it, else the caller's.  crestd passes its log
	 * pipes here. */
	int stdio[3];
};

struct crest_restore_stats {
	size_t sz;                /* set by the caller: sizeof(struct crest_restore_stats) */
	pid_t pid;                /* the restored process, as the caller sees it */
	pid_t child;              /* the caller's child to wait for: pid, or the
	                           * namespace's init (which exits as pid does) */
	uint64_t total_ns;        /* from opening the image to the process running */
	uint64_t memory_ns;       /* writing page contents into the process */
	uint64_t bytes_pages;
	uint32_t threads;
	uint32_t mappings;
};

/*
 * Rebuild the process in opts->dir: same PID and TIDs, memory, registers,
 * signal state and files; it goes on at the instruction where it was
 * frozen.  The restored process is a child of the caller, which should
 * wait for it.  Everything is checked before anything is created, and a
 * failure after the process exists kills it: nothing half-restored stays
 * alive.
 */
CREST_API int crest_restore(crest_ctx *ctx, const struct crest_restore_opts *opts,
			    struct crest_restore_stats *stats, crest_error **err);

/* ---- reading images ------------------------------------------------- */

typedef struct crest_image crest_image;

/*
 * Open the image in `dir` (or the image file itself if `path` names a file),
 * check its format version and every checksum.
 */
CREST_API int crest_image_open(crest_ctx *ctx, const char *path, crest_image **out, crest_error **err);
CREST_API void crest_image_close(crest_image *img);

/*
 * Check that the image can be restored on this machine: the CPU enables
 * every XSAVE feature the image's register state uses, and every file the
 * image maps still exists unchanged (size and mtime).  (crest_image_open()
 * has already checked the format version and every checksum.)
 */
CREST_API int crest_image_check(crest_image *img, crest_error **err);

enum crest_describe_format {
	CREST_DESCRIBE_TEXT = 0,
	CREST_DESCRIBE_JSON = 1,
};

/*
 * Describe what the image holds: threads, registers, mappings, fds, signal
 * state, version.  Returns a malloc'd NUL-terminated string in *out.
 */
CREST_API int crest_image_describe(crest_image *img, enum crest_describe_format fmt,
				   char **out, crest_error **err);

#ifdef __cplusplus
}
#endif
#endif /* CREST_H */
