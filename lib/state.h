/*
 * state.h - collecting the state of a frozen process: per thread
 * (registers, signals, rseq, ...) and per process (credentials, limits,
 * sigactions, mm fields, file descriptors).
 */
#ifndef CREST_STATE_H
#define CREST_STATE_H

#include <sys/user.h>

#include "freeze.h"
#include "image_format.h"
#include "proc.h"

struct crest_thread_rec {
	pid_t tid;
	struct user_regs_struct regs;     /* as frozen (NT_PRSTATUS) */
	struct user_fpregs_struct fpregs; /* NT_FPREGSET */
	uint8_t *xstate;                  /* NT_X86_XSTATE */
	size_t xstate_len;
	struct crest_thread th;           /* comm filled by the note writer */
	char comm[64];
	struct crest_siginfo *sigq;
	size_t nsigq;
};

struct crest_fd_rec {
	struct crest_fd_entry e;          /* path filled by the note writer */
	char *path;
};

struct crest_proc_rec {
	struct crest_process p;           /* string fields filled by the note writer */
	struct crest_proc_stat stat;
	struct crest_proc_status status;
	char *exe, *cwd, *root;
	char comm[64];
	char psargs[81];
	struct crest_sigaction act[64];   /* signal n at act[n-1] */
	struct crest_siginfo *shq;
	size_t nshq;
	uint8_t *auxv;
	size_t auxv_len;
	struct crest_fd_rec *fds;
	size_t nfds;
	size_t fds_skipped;
};

/* Registers, FPU/XSAVE state, signal mask, pending signals, rseq, robust
 * list of every frozen thread (no in-target calls). */
int crest_collect_threads(crest_ctx *ctx, struct crest_freezer *fz, struct crest_thread_rec **out,
			  crest_error **err);

/* What only the target can tell: per thread sigaltstack and
 * clear_child_tid; per process brk, dumpable and sigactions.  Runs system
 * calls in the target (infect.c); crest_infect_prepare() must be done. */
int crest_collect_in_target(crest_ctx *ctx, struct crest_freezer *fz, struct crest_thread_rec *th,
			    struct crest_proc_rec *pr, crest_error **err);

/* Everything per process that /proc and prlimit show. */
int crest_collect_process(crest_ctx *ctx, pid_t pid, struct crest_proc_rec *pr, crest_error **err);

/* Every open file descriptor; unsupported kinds fail the dump unless
 * CREST_DUMP_SKIP_UNSUPPORTED (or, for fds 0-2, CREST_DUMP_EXTERNAL_STDIO)
 * is in `flags`. */
int crest_collect_fds(crest_ctx *ctx, pid_t pid, unsigned flags, struct crest_proc_rec *pr, crest_error **err);

void crest_thread_recs_free(struct crest_thread_rec *th, size_t n);
void crest_proc_rec_free(struct crest_proc_rec *pr);

#endif
