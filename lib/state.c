/*
 * state.c - reading the state of a frozen process and of its threads.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "compat.h"
#include "state.h"

#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif

struct peeksiginfo_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

/* Read every queued siginfo of `tid` (flags 0) or of its process
 * (PTRACE_PEEKSIGINFO_SHARED), without dequeuing them. */
static int peek_sigqueue(pid_t tid, uint32_t flags, struct crest_siginfo **out, size_t *n)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	for (;;) {
		if (crest_grow(out, &cap, *n + 32, sizeof(**out)) < 0)
			return -ENOMEM;
		struct peeksiginfo_args a = {.off = *n, .flags = flags, .nr = 32};
		long r = ptrace(PTRACE_PEEKSIGINFO, tid, &a, &(*out)[*n]);
		if (r < 0)
			return -errno;
		*n += (size_t)r;
		if (r < 32)
			return 0;
	}
}

static void read_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	cleanup_free char *s = NULL;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	buf[0] = '\0';
	if (crest_read_file(path, &s) >= 0) {
		s[strcspn(s, "\n")] = '\0';
		snprintf(buf, len, "%s", s);
	}
}

/* Classify how a thread stopped inside a system call must continue. */
static uint32_t restart_kind(const struct user_regs_struct *r)
{
	if ((long)r->orig_rax < 0)
		return CREST_SC_NONE;
	switch ((long)r->rax) {
	case -512: case -513: case -514:
		return CREST_SC_RESTART;
	case -516:
		return CREST_SC_EINTR;
	default:
		return CREST_SC_DONE;
	}
}

int crest_collect_threads(crest_ctx *ctx, struct crest_freezer *fz, struct crest_thread_rec **out,
			  crest_error **err)
{
	pid_t pid = fz->pid;
	struct crest_thread_rec *th = calloc(fz->n, sizeof(*th));
	if (!th)
		return crest_err(err, ENOMEM, "pid %d: out of memory", pid);
	int ret = 0;
	for (size_t i = 0; i < fz->n; i++) {
		struct crest_thread_rec *t = &th[i];
		pid_t tid = fz->t[i].tid;
		t->tid = tid;
		struct iovec iov = {&t->regs, sizeof(t->regs)};
		if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0) {
			ret = crest_err_sys(err, errno, "pid %d: reading registers of thread %d", pid, tid);
			goto fail;
		}
		iov = (struct iovec){&t->fpregs, sizeof(t->fpregs)};
		if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRFPREG, &iov) < 0) {
			ret = crest_err_sys(err, errno, "pid %d: reading FPU registers of thread %d", pid, tid);
			goto fail;
		}
		t->xstate = calloc(1, 16384);
		if (!t->xstate) {
			ret = crest_err(err, ENOMEM, "pid %d: out of memory", pid);
			goto fail;
		}
		iov = (struct iovec){t->xstate, 16384};
		if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0) {
			ret = crest_err_sys(err, errno, "pid %d: reading the XSAVE area of thread %d", pid, tid);
			goto fail;
		}
		t->xstate_len = iov.iov_len;

		struct crest_thread *c = &t->th;
		c->tid = (uint32_t)tid;
		if (tid == pid)
			c->flags |= CREST_THREAD_LEADER;
		if (fz->t[i].group_stopped)
			c->flags |= CREST_THREAD_GROUP_STOPPED;
		if (ptrace(PTRACE_GETSIGMASK, tid, (void *)8, &c->sigmask) < 0) {
			ret = crest_err_sys(err, errno, "pid %d: reading signal mask of thread %d", pid, tid);
			goto fail;
		}
		c->syscall_nr = (int64_t)t->regs.orig_rax;
		c->syscall_ret = (int64_t)t->regs.rax;
		c->restart = restart_kind(&t->regs);
		c->fs_base = t->regs.fs_base;
		c->gs_base = t->regs.gs_base;

		struct crest_ptrace_rseq_configuration rc = {0};
		if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, (void *)sizeof(rc), &rc) >= 0) {
			c->rseq_addr = rc.rseq_abi_pointer;
			c->rseq_len = rc.rseq_abi_size;
			c->rseq_sig = rc.signature;
			c->rseq_flags = rc.flags;
		} else if (errno != EIO && errno != EINVAL) {
			ret = crest_err_sys(err, errno, "pid %d: reading the rseq registration of thread %d", pid, tid);
			goto fail;
		}
		void *head = NULL;
		size_t hlen = 0;
		if (syscall(SYS_get_robust_list, tid, &head, &hlen) < 0) {
			ret = crest_err_sys(err, errno, "pid %d: reading the robust futex list of thread %d", pid, tid);
			goto fail;
		}
		c->robust_list = (uint64_t)(uintptr_t)head;
		c->robust_list_len = hlen;

		int r = peek_sigqueue(tid, 0, &t->sigq, &t->nsigq);
		if (r < 0) {
			ret = crest_err_sys(err, -r, "pid %d: reading pending signals of thread %d", pid, tid);
			goto fail;
		}
		c->nsigqueue = (uint32_t)t->nsigq;

		c->state = (uint32_t)(unsigned char)fz->t[i].state;
		read_comm(pid, tid, t->comm, sizeof(t->comm));
	}
	*out = th;
	log_debug(ctx, "pid %d: read the state of %zu threads", pid, fz->n);
	return 0;
fail:
	crest_thread_recs_free(th, fz->n);
	return ret;
}

/* Run one system call in thread `idx`; a negative result is an error of
 * the call, reported with `what`. */
static int call(crest_ctx *ctx, struct crest_freezer *fz, size_t idx, long nr, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3, int64_t *res, const char *what, crest_error **err)
{
	uint64_t args[6] = {a0, a1, a2, a3, 0, 0};
	int ret = crest_infect_syscall(ctx, fz, idx, nr, args, res, err);
	if (ret < 0)
		return ret;
	if (*res < 0 && *res > -4096)
		return crest_err(err, (int)-*res, "pid %d: %s in thread %d failed: %s", fz->pid, what,
				 fz->t[idx].tid, strerror((int)-*res));
	return 0;
}

int crest_collect_in_target(crest_ctx *ctx, struct crest_freezer *fz, struct crest_thread_rec *th,
			    struct crest_proc_rec *pr, crest_error **err)
{
	uint64_t scratch = fz->inf.scratch;
	int64_t res;
	int ret;
	for (size_t i = 0; i < fz->n; i++) {
		struct crest_thread *c = &th[i].th;
		/* sigaltstack(NULL, &old) */
		ret = call(ctx, fz, i, SYS_sigaltstack, 0, scratch, 0, 0, &res, "sigaltstack", err);
		if (ret < 0)
			return ret;
		stack_t ss;
		if ((ret = crest_target_read(fz, scratch, &ss, sizeof(ss))) < 0)
			return crest_err_sys(err, -ret, "pid %d: reading sigaltstack result", fz->pid);
		c->altstack_sp = (uint64_t)(uintptr_t)ss.ss_sp;
		c->altstack_size = ss.ss_size;
		c->altstack_flags = (uint32_t)ss.ss_flags;
		/* prctl(PR_GET_TID_ADDRESS, &addr) */
		ret = call(ctx, fz, i, SYS_prctl, PR_GET_TID_ADDRESS, scratch, 0, 0, &res, "prctl(PR_GET_TID_ADDRESS)",
			   err);
		if (ret < 0)
			return ret;
		if ((ret = crest_target_read(fz, scratch, &c->clear_child_tid, 8)) < 0)
			return crest_err_sys(err, -ret, "pid %d: reading clear_child_tid", fz->pid);
	}
	ssize_t li = crest_freeze_find(fz, fz->pid);
	size_t l = li < 0 ? 0 : (size_t)li;
	ret = call(ctx, fz, l, SYS_brk, 0, 0, 0, 0, &res, "brk(0)", err);
	if (ret < 0)
		return ret;
	pr->p.brk = (uint64_t)res;
	ret = call(ctx, fz, l, SYS_prctl, 3 /* PR_GET_DUMPABLE */, 0, 0, 0, &res, "prctl(PR_GET_DUMPABLE)", err);
	if (ret < 0)
		return ret;
	pr->p.dumpable = (uint32_t)res;
	/* Sigactions: only signals with a handler or ignored can differ from
	 * the default, plus SIGCHLD whose flags matter even at SIG_DFL. */
	uint64_t interesting = pr->status.sig_cgt | pr->status.sig_ign | (1ull << (SIGCHLD - 1));
	for (int sig = 1; sig <= 64; sig++) {
		if (!(interesting & (1ull << (sig - 1))) || sig == SIGKILL || sig == SIGSTOP)
			continue;
		ret = call(ctx, fz, l, SYS_rt_sigaction, (uint64_t)sig, 0, scratch, 8, &res, "rt_sigaction", err);
		if (ret < 0)
			return ret;
		struct crest_sigaction *a = &pr->act[sig - 1];
		if ((ret = crest_target_read(fz, scratch, a, sizeof(*a))) < 0)
			return crest_err_sys(err, -ret, "pid %d: reading sigaction %d", fz->pid, sig);
	}
	return 0;
}

static char *read_link(pid_t pid, const char *name)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* /proc/PID/limits: a header, then one line per RLIMIT_* in order, the soft
 * and hard values in fixed columns (26 and 47), "unlimited" or a number. */
static int read_limits_file(pid_t pid, struct crest_process *p)
{
	char path[64];
	cleanup_free char *s = NULL;
	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	if (crest_read_file(path, &s) < 0)
		return -1;
	char *line = strchr(s, '\n');
	for (int r = 0; line && r < CREST_RLIMIT_COUNT; r++) {
		line++;
		char *end = strchr(line, '\n');
		if (!end || end - line < 68)
			return -1;
		uint64_t v[2];
		for (int k = 0; k < 2; k++) {
			const char *f = line + 26 + 21 * k;
			v[k] = !strncmp(f, "unlimited", 9) ? (uint64_t)RLIM_INFINITY : strtoull(f, NULL, 10);
		}
		p->rlimits[r].cur = v[0];
		p->rlimits[r].max = v[1];
		line = end;
	}
	return 0;
}

int crest_collect_process(crest_ctx *ctx, pid_t pid, struct crest_proc_rec *pr, crest_error **err)
{
	int ret = crest_proc_read_stat(pid, 0, &pr->stat, err);
	if (ret < 0)
		return ret;
	ret = crest_proc_read_status(pid, &pr->status, err);
	if (ret < 0)
		return ret;
	struct crest_process *p = &pr->p;
	const struct crest_proc_stat *s = &pr->stat;
	const struct crest_proc_status *st = &pr->status;
	p->pid = (uint32_t)pid;
	p->ppid = (uint32_t)s->ppid;
	p->pgid = (uint32_t)s->pgrp;
	p->sid = (uint32_t)s->session;
	memcpy(p->uid, st->uid, sizeof(p->uid));
	memcpy(p->gid, st->gid, sizeof(p->gid));
	p->cap_inh = st->cap_inh;
	p->cap_prm = st->cap_prm;
	p->cap_eff = st->cap_eff;
	p->cap_bnd = st->cap_bnd;
	p->cap_amb = st->cap_amb;
	p->umask = st->umask;
	p->no_new_privs = (uint32_t)st->no_new_privs;
	p->seccomp_mode = (uint32_t)st->seccomp;
	p->ngroups = (uint32_t)st->ngroups;
	p->start_code = s->start_code;
	p->end_code = s->end_code;
	p->start_data = s->start_data;
	p->end_data = s->end_data;
	p->start_brk = s->start_brk;
	p->start_stack = s->start_stack;
	p->arg_start = s->arg_start;
	p->arg_end = s->arg_end;
	p->env_start = s->env_start;
	p->env_end = s->env_end;

	char path[64];
	cleanup_free char *pers = NULL;
	snprintf(path, sizeof(path), "/proc/%d/personality", pid);
	if (crest_read_file(path, &pers) >= 0)
		p->personality = (uint32_t)strtoul(pers, NULL, 16);
	for (int r = 0; r < CREST_RLIMIT_COUNT; r++) {
		struct rlimit rl;
		if (prlimit(pid, (__rlimit_resource_t)r, NULL, &rl) < 0) {
			if (errno == EINVAL)
				continue;
			/* prlimit() on another user's process needs
			 * CAP_SYS_RESOURCE, which root may lack: /proc says the
			 * same in text */
			if (errno == EPERM && read_limits_file(pid, p) == 0)
				break;
			return crest_err_sys(err, errno, "pid %d: reading resource limit %d", pid, r);
		}
		p->rlimits[r].cur = rl.rlim_cur;
		p->rlimits[r].max = rl.rlim_max;
	}
	pr->exe = read_link(pid, "exe");
	pr->cwd = read_link(pid, "cwd");
	pr->root = read_link(pid, "root");
	if (!pr->cwd || !pr->root)
		return crest_err_sys(err, errno, "pid %d: reading /proc/%d/cwd and root", pid, pid);
	read_comm(pid, pid, pr->comm, sizeof(pr->comm));

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	cleanup_free char *auxv = NULL;
	ssize_t n = crest_read_file(path, &auxv);
	if (n < 0)
		return crest_err_sys(err, (int)-n, "pid %d: reading %s", pid, path);
	pr->auxv = (uint8_t *)steal_ptr(auxv);
	pr->auxv_len = (size_t)n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	cleanup_free char *cmd = NULL;
	n = crest_read_file(path, &cmd);
	if (n > 0) {
		size_t k = (size_t)n < sizeof(pr->psargs) - 1 ? (size_t)n : sizeof(pr->psargs) - 1;
		for (size_t i = 0; i < k; i++)
			pr->psargs[i] = cmd[i] ? cmd[i] : ' ';
		while (k && pr->psargs[k - 1] == ' ')
			k--;
		pr->psargs[k] = '\0';
	}
	/* Shared pending signals: via the leader, which is traced by now. */
	ret = peek_sigqueue(pid, PTRACE_PEEKSIGINFO_SHARED, &pr->shq, &pr->nshq);
	if (ret < 0)
		return crest_err_sys(err, -ret, "pid %d: reading process-wide pending signals", pid);
	log_debug(ctx, "pid %d: process state read", pid);
	return 0;
}

/* Kinds whose state is fully described by path, flags and offset. */
static bool fd_supported(int kind)
{
	return kind == CREST_FD_REG || kind == CREST_FD_DIR || kind == CREST_FD_CHR;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int crest_collect_fds(crest_ctx *ctx, pid_t pid, unsigned flags, struct crest_proc_rec *pr, crest_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return crest_err_sys(err, errno, "pid %d: listing %s", pid, path);
	cleanup_free int *fds = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (crest_grow(&fds, &cap, n + 1, sizeof(int)) < 0) {
			closedir(d);
			return crest_err(err, ENOMEM, "pid %d: out of memory", pid);
		}
		fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(fds, n, sizeof(int), cmp_int);
	pr->fds = calloc(n ? n : 1, sizeof(*pr->fds));
	if (!pr->fds)
		return crest_err(err, ENOMEM, "pid %d: out of memory", pid);
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i];
		char lpath[64], link[4096];
		snprintf(lpath, sizeof(lpath), "/proc/%d/fd/%d", pid, fd);
		ssize_t l = readlink(lpath, link, sizeof(link) - 1);
		if (l < 0) {
			if (errno == ENOENT)
				continue; /* closed meanwhile (a thread not yet frozen cannot do that; be safe) */
			return crest_err_sys(err, errno, "pid %d: reading %s", pid, lpath);
		}
		link[l] = '\0';
		struct stat st;
		bool have = stat(lpath, &st) == 0;
		struct crest_fd_rec *r = &pr->fds[pr->nfds];
		struct crest_fd_entry *e = &r->e;
		e->fd = fd;
		e->kind = (uint32_t)crest_proc_fd_kind(link, have ? st.st_mode : 0);
		if (have) {
			e->mode = st.st_mode;
			e->dev = st.st_dev;
			e->ino = st.st_ino;
			e->rdev = st.st_rdev;
			e->size = (uint64_t)st.st_size;
			e->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
			if (S_ISREG(st.st_mode) && st.st_nlink == 0)
				e->flags |= CREST_FD_F_DELETED;
		}
		char ipath[64];
		cleanup_free char *info = NULL;
		snprintf(ipath, sizeof(ipath), "/proc/%d/fdinfo/%d", pid, fd);
		if (crest_read_file(ipath, &info) >= 0) {
			struct crest_proc_fdinfo fi = {0};
			if (crest_proc_parse_fdinfo(info, &fi, NULL) == 0) {
				e->pos = fi.pos;
				e->open_flags = fi.flags;
				e->mnt_id = fi.mnt_id;
				if (fi.flags & O_CLOEXEC)
					e->flags |= CREST_FD_F_CLOEXEC;
			}
		}
		r->path = strdup(link);
		if (!r->path)
			return crest_err(err, ENOMEM, "pid %d: out of memory", pid);
		pr->nfds++;
		bool ok = fd_supported((int)e->kind) && !(e->flags & CREST_FD_F_DELETED);
		if (!ok && fd <= 2 && (flags & CREST_DUMP_EXTERNAL_STDIO)) {
			e->flags |= CREST_FD_F_UNSUPPORTED; /* given back at restore */
			pr->fds_skipped++;
		} else if (!ok) {
			const char *kname = (e->flags & CREST_FD_F_DELETED) ? "deleted file" : crest_proc_fd_kind_name((int)e->kind);
			if (!(flags & CREST_DUMP_SKIP_UNSUPPORTED))
				return crest_err(err, EOPNOTSUPP,
						 "pid %d: fd %d is a %s (%s), which crest cannot checkpoint yet; close it in the program, or pass --skip-unsupported to record it as missing",
						 pid, fd, kname, link);
			e->flags |= CREST_FD_F_UNSUPPORTED;
			pr->fds_skipped++;
			log_warn(ctx, "pid %d: fd %d is a %s (%s): recorded as unsupported", pid, fd, kname, link);
		}
	}
	return 0;
}

void crest_thread_recs_free(struct crest_thread_rec *th, size_t n)
{
	if (!th)
		return;
	for (size_t i = 0; i < n; i++) {
		free(th[i].xstate);
		free(th[i].sigq);
	}
	free(th);
}

void crest_proc_rec_free(struct crest_proc_rec *pr)
{
	crest_proc_status_free(&pr->status);
	free(pr->exe);
	free(pr->cwd);
	free(pr->root);
	free(pr->shq);
	free(pr->auxv);
	for (size_t i = 0; i < pr->nfds; i++)
		free(pr->fds[i].path);
	free(pr->fds);
	memset(pr, 0, sizeof(*pr));
}
