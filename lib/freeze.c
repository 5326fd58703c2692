/*
 * freeze.c - stop every thread of a process with PTRACE_SEIZE +
 * PTRACE_INTERRUPT, and let it go again (detach, or kill).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "freeze.h"
#include "proc.h"

ssize_t crest_freeze_find(const struct crest_freezer *fz, pid_t tid)
{
	for (size_t i = 0; i < fz->n; i++)
		if (fz->t[i].tid == tid)
			return (ssize_t)i;
	return -1;
}

/* Explain a PTRACE_SEIZE failure in terms a user can act on. */
static int seize_error(crest_ctx *ctx, pid_t pid, pid_t tid, int e, crest_error **err)
{
	(void)ctx;
	if (e == EPERM) {
		struct crest_proc_status st = {0};
		int tracer = 0;
		if (crest_proc_read_status(tid, &st, NULL) == 0) {
			tracer = st.tracer_pid;
			crest_proc_status_free(&st);
		}
		if (tracer)
			return crest_err(err, EBUSY,
					 "cannot freeze pid %d: thread %d is already traced by pid %d (a debugger or another crest); detach it and retry",
					 pid, tid, tracer);
		return crest_err(err, EPERM,
				 "cannot freeze pid %d: no permission to trace it (ptrace: Operation not permitted); run crest as root or as the process's owner, and check /proc/sys/kernel/yama/ptrace_scope",
				 pid);
	}
	return crest_err_sys(err, e, "cannot freeze pid %d: PTRACE_SEIZE of thread %d failed", pid, tid);
}

/*
 * Wait until thread `t` reports its interrupt stop.  A signal that was
 * being delivered when the interrupt came in is passed on (it would have
 * been delivered anyway) and we wait again.  Returns 0, -ESRCH if the
 * thread exited, or another -errno.
 */
static int wait_stop(struct crest_frozen_thread *t)
{
	for (;;) {
		int st;
		pid_t r = waitpid(t->tid, &st, __WALL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (!WIFSTOPPED(st))
			continue;
		int event = st >> 16;
		if (event == PTRACE_EVENT_STOP) {
			int sig = WSTOPSIG(st);
			t->stop_status = st;
			t->group_stopped = (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU);
			return 0;
		}
		/* signal-delivery-stop: hand the signal on; our interrupt is
		 * still pending and stops the thread right after. */
		int sig = event ? 0 : WSTOPSIG(st);
		if (ptrace(PTRACE_CONT, t->tid, 0, (void *)(long)sig) < 0 && errno == ESRCH)
			return -ESRCH;
	}
}

static void drop_thread(struct crest_freezer *fz, size_t i)
{
	memmove(&fz->t[i], &fz->t[i + 1], (fz->n - i - 1) * sizeof(fz->t[0]));
	fz->n--;
}

int crest_freeze(crest_ctx *ctx, pid_t pid, struct crest_freezer *fz, crest_error **err)
{
	int ret;
	memset(fz, 0, sizeof(*fz));
	fz->pid = pid;
	fz->mem_fd = -1;

	for (int round = 0;; round++) {
		cleanup_free pid_t *tids = NULL;
		size_t ntids = 0;
		ret = crest_proc_list_tasks(pid, &tids, &ntids, err);
		if (ret < 0)
			goto fail;
		size_t first_new = fz->n;
		for (size_t i = 0; i < ntids; i++) {
			if (crest_freeze_find(fz, tids[i]) >= 0)
				continue;
			struct crest_proc_stat ts;
			char state = crest_proc_read_stat(pid, tids[i], &ts, NULL) == 0 ? ts.state : '?';
			if (ptrace(PTRACE_SEIZE, tids[i], 0, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
				if (errno == ESRCH)
					continue; /* exited meanwhile */
				ret = seize_error(ctx, pid, tids[i], errno, err);
				goto fail;
			}
			if (crest_grow(&fz->t, &fz->cap, fz->n + 1, sizeof(fz->t[0])) < 0) {
				ptrace(PTRACE_DETACH, tids[i], 0, 0);
				ret = crest_err(err, ENOMEM, "freezing pid %d: out of memory", pid);
				goto fail;
			}
			memset(&fz->t[fz->n], 0, sizeof(fz->t[0]));
			fz->t[fz->n].state = state;
			fz->t[fz->n++].tid = tids[i];
			if (!fz->frozen_at_ns)
				fz->frozen_at_ns = crest_now_ns();
			if (ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) < 0 && errno != ESRCH) {
				ret = crest_err_sys(err, errno, "freezing pid %d: PTRACE_INTERRUPT of thread %d", pid, tids[i]);
				goto fail;
			}
		}
		if (first_new == fz->n)
			break; /* every listed thread is ours and stopped */
		for (size_t i = first_new; i < fz->n;) {
			ret = wait_stop(&fz->t[i]);
			if (ret == -ESRCH) {
				if (fz->t[i].tid == pid) {
					ret = crest_err(err, ESRCH, "pid %d exited while crest was freezing it", pid);
					goto fail;
				}
				drop_thread(fz, i);
				continue;
			}
			if (ret < 0) {
				ret = crest_err_sys(err, -ret, "freezing pid %d: waiting for thread %d to stop", pid, fz->t[i].tid);
				goto fail;
			}
			i++;
		}
		if (round > 1000) {
			ret = crest_err(err, EAGAIN, "pid %d keeps creating threads faster than crest can freeze them; retry", pid);
			goto fail;
		}
	}
	if (fz->n == 0 || crest_freeze_find(fz, pid) < 0) {
		ret = crest_err(err, ESRCH, "pid %d has no thread left to freeze (it is exiting)", pid);
		goto fail;
	}
	log_debug(ctx, "froze pid %d: %zu threads", pid, fz->n);
	return 0;
fail:
	crest_thaw(ctx, fz, NULL);
	return ret;
}

/* Registers a thread must get back when it resumes after crest ran system
 * calls in it.  It stopped in the kernel's signal path, where a system call
 * it was in would be restarted; since our calls replaced that path, apply
 * the restart here exactly as the kernel would have. */
static void resume_regs(struct user_regs_struct *r)
{
	if ((long)r->orig_rax >= 0) {
		switch ((long)r->rax) {
		case -512: /* ERESTARTSYS */
		case -513: /* ERESTARTNOINTR */
		case -514: /* ERESTARTNOHAND */
			r->rax = r->orig_rax;
			r->rip -= 2;
			break;
		case -516: /* ERESTART_RESTARTBLOCK: the restart block is still ours */
			r->rax = 219; /* __NR_restart_syscall */
			r->rip -= 2;
			break;
		}
	}
	r->orig_rax = (unsigned long)-1;
}

/* Forget the threads and close /proc/PID/mem: the freezer holds nothing. */
static void release(struct crest_freezer *fz)
{
	free(fz->t);
	fz->t = NULL;
	fz->n = fz->cap = 0;
	if (fz->mem_fd >= 0)
		close(fz->mem_fd);
	fz->mem_fd = -1;
}

int crest_infect_finish(struct crest_freezer *fz, crest_error **err)
{
	int ret = 0;
	if (fz->inf.scratch_taken) {
		int r = crest_target_write(fz, fz->inf.scratch, fz->inf.scratch_saved, sizeof(fz->inf.scratch_saved));
		if (r < 0)
			ret = crest_err_sys(err, -r, "pid %d: restoring crest's scratch memory at %#lx", fz->pid,
					    (unsigned long)fz->inf.scratch);
		else
			fz->inf.scratch_taken = false;
	}
	for (size_t i = 0; i < fz->n; i++) {
		struct crest_frozen_thread *t = &fz->t[i];
		if (!t->dirty)
			continue;
		struct user_regs_struct r = t->saved_regs;
		resume_regs(&r);
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0 && !ret)
			ret = crest_err_sys(err, errno, "pid %d: restoring registers of thread %d", fz->pid, t->tid);
		if (ptrace(PTRACE_SETSIGMASK, t->tid, (void *)8, &t->saved_sigmask) < 0 && !ret)
			ret = crest_err_sys(err, errno, "pid %d: restoring signal mask of thread %d", fz->pid, t->tid);
		t->dirty = false;
	}
	return ret;
}

int crest_thaw(crest_ctx *ctx, struct crest_freezer *fz, crest_error **err)
{
	int ret = crest_infect_finish(fz, err);
	for (size_t i = 0; i < fz->n; i++) {
		struct crest_frozen_thread *t = &fz->t[i];
		if (ptrace(PTRACE_DETACH, t->tid, 0, 0) < 0 && errno != ESRCH && !ret)
			ret = crest_err_sys(err, errno, "pid %d: detaching thread %d", fz->pid, t->tid);
	}
	if (fz->n)
		log_debug(ctx, "resumed pid %d (%zu threads)", fz->pid, fz->n);
	release(fz);
	return ret;
}

void crest_freeze_kill(crest_ctx *ctx, struct crest_freezer *fz)
{
	kill(fz->pid, SIGKILL);
	/* The tracer sees each thread's exit; collect them so no ptrace state
	 * stays behind.  The kernel reports the leader only after all other
	 * threads are gone, so it comes last.  The real parent still reaps
	 * the process. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < fz->n; i++) {
			if ((fz->t[i].tid == fz->pid) != (pass == 1))
				continue;
			int st;
			while (waitpid(fz->t[i].tid, &st, __WALL) < 0 && errno == EINTR)
				;
		}
	}
	log_debug(ctx, "killed pid %d", fz->pid);
	fz->inf.scratch_taken = false;
	release(fz);
}

static int mem_fd(struct crest_freezer *fz)
{
	if (fz->mem_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", fz->pid);
		fz->mem_fd = open(path, O_RDWR | O_CLOEXEC);
		if (fz->mem_fd < 0)
			return -errno;
	}
	return fz->mem_fd;
}

int crest_target_read(struct crest_freezer *fz, uint64_t addr, void *buf, size_t len)
{
	int fd = mem_fd(fz);
	if (fd < 0)
		return fd;
	char *p = buf;
	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)addr);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		addr += (uint64_t)r;
		len -= (size_t)r;
	}
	return 0;
}

int crest_target_write(struct crest_freezer *fz, uint64_t addr, const void *buf, size_t len)
{
	int fd = mem_fd(fz);
	/* /proc/PID/mem at offset `addr` is a file like any other */
	return fd < 0 ? fd : crest_pwrite_all(fd, buf, len, (off_t)addr);
}
