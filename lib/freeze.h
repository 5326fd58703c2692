/*
 * freeze.h - stopping every thread of a process with ptrace, running system
 * calls inside it, and putting it back exactly as it was.
 */
#ifndef CREST_FREEZE_H
#define CREST_FREEZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "internal.h"

struct crest_frozen_thread {
	pid_t tid;
	int stop_status;         /* waitpid status of the freeze stop */
	char state;              /* state letter from /proc before crest stopped it */
	bool group_stopped;      /* it was in a job-control stop (SIGSTOP etc.) */
	bool dirty;              /* registers/sigmask changed by infect: restore at thaw */
	struct user_regs_struct saved_regs; /* valid when dirty */
	uint64_t saved_sigmask;             /* valid when dirty */
};

/* The in-target execution state of one process (see infect.c). */
struct crest_infect {
	uint64_t syscall_ip;     /* address of a `syscall` instruction in the target */
	uint64_t scratch;        /* target address of the scratch area; 0 = none yet */
	uint8_t scratch_saved[256];
	bool scratch_taken;
};

#define CREST_SCRATCH_SIZE 256

struct crest_freezer {
	pid_t pid;
	struct crest_frozen_thread *t;
	size_t n, cap;
	uint64_t frozen_at_ns;   /* monotonic time of the first interrupt */
	struct crest_infect inf;
	int mem_fd;              /* /proc/PID/mem, opened by infect when needed */
};

/*
 * Seize and stop every thread of process `pid`.  Lists /proc/PID/task
 * again after all known threads have stopped, until no new thread shows
 * up.  A thread that exits while being seized is skipped.  On failure every
 * thread seized so far is detached and runs on untouched.
 */
int crest_freeze(crest_ctx *ctx, pid_t pid, struct crest_freezer *fz, crest_error **err);

/*
 * Undo everything: restore the scratch memory and the registers and
 * signal masks of threads that ran system calls for crest, then detach
 * every thread.  Safe to call on a partially frozen or empty freezer.
 * Returns the first error but always detaches all threads.
 */
int crest_thaw(crest_ctx *ctx, struct crest_freezer *fz, crest_error **err);

/* Kill the frozen process with SIGKILL and reap the ptrace stops of its
 * threads; frees the freezer's thread list. */
void crest_freeze_kill(crest_ctx *ctx, struct crest_freezer *fz);

/* Index of thread `tid` in fz->t, or -1. */
ssize_t crest_freeze_find(const struct crest_freezer *fz, pid_t tid);

/*
 * Run one system call inside frozen thread fz->t[idx]: `nr` with up to six
 * arguments.  *ret receives the raw return value (a negative errno is
 * a normal result, not an error of this function).  The first call on a
 * thread saves its registers and signal mask and blocks all signals; they
 * are restored by crest_thaw().  `syscall_ip` must have been set with
 * crest_infect_prepare().
 */
int crest_infect_syscall(crest_ctx *ctx, struct crest_freezer *fz, size_t idx, long nr,
			 const uint64_t args[6], int64_t *ret, crest_error **err);

/* Find a `syscall` instruction for crest_infect_syscall(): in the vDSO
 * [vdso_start, vdso_end) if it has one, else in `exec_ranges`. */
int crest_infect_find_syscall(struct crest_freezer *fz, const uint64_t *exec_ranges, size_t nranges,
			      uint64_t vdso_start, uint64_t vdso_end, crest_error **err);

/*
 * Find a `syscall` instruction in the target's vDSO (or, failing that, in
 * its executable mappings listed in `exec_ranges`, pairs of start/end), and
 * take a scratch area on the leader's stack below the red zone, saving its
 * contents.  Must be called once before crest_infect_syscall().
 */
int crest_infect_prepare(crest_ctx *ctx, struct crest_freezer *fz, const uint64_t *exec_ranges,
			 size_t nranges, uint64_t vdso_start, uint64_t vdso_end,
			 const uint64_t *writable_ranges, size_t nwritable, crest_error **err);

/*
 * End the in-target work: put the scratch memory back (before the target's
 * memory is copied, so the image holds the original bytes) and give every
 * thread that ran system calls its registers (with any interrupted system
 * call set up to restart, as the kernel would) and signal mask back.  The
 * threads stay stopped.  Done as early as possible: if crest dies after
 * this, the kernel detaches and the target goes on unharmed.
 */
int crest_infect_finish(struct crest_freezer *fz, crest_error **err);

/* Read/write target memory (through /proc/PID/mem, which also reaches
 * pages the target cannot access itself).  Return 0 or -errno. */
int crest_target_read(struct crest_freezer *fz, uint64_t addr, void *buf, size_t len);
int crest_target_write(struct crest_freezer *fz, uint64_t addr, const void *buf, size_t len);

#endif
