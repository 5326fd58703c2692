/*
 * infect.c - run system calls inside a frozen target.
 *
 * Some state only the target can report about itself (its alternate
 * signal stack, its clear_child_tid address, its brk, its sigactions).  We
 * make a stopped thread execute one `syscall` instruction that already
 * exists in its address space (in the vDSO), with PTRACE_SYSCALL: it stops
 * at syscall entry and again at exit, where we read the result.  No signal
 * is involved, so no handler or signal disposition is touched.  All signals
 * are blocked while crest drives the thread; crest_thaw() puts the
 * registers, the signal mask and the scratch memory back.
 */
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "freeze.h"

/* Look for the bytes 0f 05 (syscall) in target memory [start, end). */
static int find_syscall_insn(struct crest_freezer *fz, uint64_t start, uint64_t end, uint64_t *out)
{
	uint8_t buf[4096 + 1];
	for (uint64_t a = start; a < end; a += 4096) {
		size_t len = end - a > 4096 ? 4096 : (size_t)(end - a);
		if (crest_target_read(fz, a, buf, len) < 0)
			continue;
		buf[len] = 0;
		for (size_t i = 0; i + 1 < len; i++) {
			if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
				*out = a + i;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int crest_infect_find_syscall(struct crest_freezer *fz, const uint64_t *exec_ranges, size_t nranges,
			      uint64_t vdso_start, uint64_t vdso_end, crest_error **err)
{
	int ret = -ENOENT;
	if (vdso_start < vdso_end)
		ret = find_syscall_insn(fz, vdso_start, vdso_end, &fz->inf.syscall_ip);
	for (size_t i = 0; ret < 0 && i < nranges; i++)
		ret = find_syscall_insn(fz, exec_ranges[2 * i], exec_ranges[2 * i + 1], &fz->inf.syscall_ip);
	if (ret < 0)
		return crest_err(err, ENOEXEC,
				 "pid %d: no `syscall` instruction found in its vDSO or code, so crest cannot run system calls in it",
				 fz->pid);
	return 0;
}

int crest_infect_prepare(crest_ctx *ctx, struct crest_freezer *fz, const uint64_t *exec_ranges,
			 size_t nranges, uint64_t vdso_start, uint64_t vdso_end,
			 const uint64_t *writable_ranges, size_t nwritable, crest_error **err)
{
	struct crest_infect *inf = &fz->inf;
	int ret = crest_infect_find_syscall(fz, exec_ranges, nranges, vdso_start, vdso_end, err);
	if (ret < 0)
		return ret;

	/* Scratch: below the leader's red zone, if that is mapped writable. */
	ssize_t li = crest_freeze_find(fz, fz->pid);
	struct user_regs_struct regs;
	if (li < 0 || ptrace(PTRACE_GETREGS, fz->pid, 0, &regs) < 0)
		return crest_err_sys(err, errno, "pid %d: reading the leader's registers", fz->pid);
	uint64_t want = ((regs.rsp - 128 - CREST_SCRATCH_SIZE) & ~15ull);
	uint64_t scratch = 0;
	for (size_t i = 0; i < nwritable; i++) {
		uint64_t s = writable_ranges[2 * i], e = writable_ranges[2 * i + 1];
		if (want >= s && want + CREST_SCRATCH_SIZE <= e) {
			scratch = want;
			break;
		}
	}
	for (size_t i = 0; !scratch && i < nwritable; i++) {
		uint64_t s = writable_ranges[2 * i], e = writable_ranges[2 * i + 1];
		if (e - s >= CREST_SCRATCH_SIZE)
			scratch = s;
	}
	if (!scratch)
		return crest_err(err, ENOMEM, "pid %d: no writable memory to use as scratch space", fz->pid);
	ret = crest_target_read(fz, scratch, inf->scratch_saved, CREST_SCRATCH_SIZE);
	if (ret < 0)
		return crest_err_sys(err, -ret, "pid %d: saving scratch memory at %#lx", fz->pid, (unsigned long)scratch);
	inf->scratch = scratch;
	inf->scratch_taken = true;
	log_debug(ctx, "pid %d: syscall at %#lx, scratch at %#lx", fz->pid, (unsigned long)inf->syscall_ip,
		  (unsigned long)scratch);
	return 0;
}

/* Resume `tid` with PTRACE_SYSCALL and wait for the next syscall stop. */
static int step_to_syscall_stop(pid_t tid)
{
	if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
		return -errno;
	for (;;) {
		int st;
		if (waitpid(tid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		/* Anything else (a stop signal, an event) is not expected with
		 * every signal blocked. */
		return -EINTR;
	}
}

int crest_infect_syscall(crest_ctx *ctx, struct crest_freezer *fz, size_t idx, long nr,
			 const uint64_t args[6], int64_t *ret, crest_error **err)
{
	struct crest_frozen_thread *t = &fz->t[idx];
	if (!fz->inf.syscall_ip)
		return crest_err(err, EINVAL, "internal: crest_infect_prepare() was not called");
	if (!t->dirty) {
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->saved_regs) < 0)
			return crest_err_sys(err, errno, "pid %d: reading registers of thread %d", fz->pid, t->tid);
		if (ptrace(PTRACE_GETSIGMASK, t->tid, (void *)8, &t->saved_sigmask) < 0)
			return crest_err_sys(err, errno, "pid %d: reading signal mask of thread %d", fz->pid, t->tid);
		uint64_t all = ~0ull;
		if (ptrace(PTRACE_SETSIGMASK, t->tid, (void *)8, &all) < 0)
			return crest_err_sys(err, errno, "pid %d: blocking signals of thread %d", fz->pid, t->tid);
		t->dirty = true;
	}
	struct user_regs_struct r = t->saved_regs;
	r.orig_rax = (unsigned long)-1; /* no syscall restart on the way out of the stop */
	r.rax = (unsigned long)nr;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	r.rip = fz->inf.syscall_ip;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
		return crest_err_sys(err, errno, "pid %d: setting registers of thread %d", fz->pid, t->tid);
	int e = step_to_syscall_stop(t->tid); /* entry */
	if (!e)
		e = step_to_syscall_stop(t->tid); /* exit */
	if (e == -ESRCH)
		return crest_err(err, ESRCH, "pid %d was killed while crest queried its state", fz->pid);
	if (e < 0)
		return crest_err(err, EAGAIN,
				 "pid %d: thread %d did not stop as expected while running system call %ld; it may have received a stop signal; retry",
				 fz->pid, t->tid, nr);
	struct user_regs_struct out;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &out) < 0)
		return crest_err_sys(err, errno, "pid %d: reading the result of system call %ld in thread %d", fz->pid, nr,
				     t->tid);
	*ret = (int64_t)out.rax;
	log_debug(ctx, "pid %d thread %d: syscall %ld -> %ld", fz->pid, t->tid, nr, (long)out.rax);
	return 0;
}
