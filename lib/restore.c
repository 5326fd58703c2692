/*
 * restore.c - crest_restore(): rebuild a process from its image.
 *
 * crest (the parent) reads and checks the whole image first, opens every
 * file the new process needs, and lays out the restorer region: the
 * freestanding blob (restorer/), its arguments and the restorer's stacks,
 * at an address that neither crest nor any mapping of the image uses.  It
 * then creates the child with clone3(set_tid = the image's PID).  The child
 * puts the fds in place, changes directory and jumps into the blob, which
 * replaces the address space (see restorer/restorer.c).  While the blob
 * waits, crest writes the stored pages into the new process with
 * process_vm_writev, from two threads (the kernel allocates each page as it
 * copies, so no page takes a trapping fault).  When every thread reports ready, crest stops them all
 * with ptrace, makes the leader unmap the region and close the pipes, gives
 * every thread its registers, XSAVE state and signal mask, and lets go.
 */
#include <fcntl.h>
#include <pthread.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/rseq.h>

#include "freeze.h"
#include "image.h"
#include "restorer.h"
#include "restorer_blob.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

struct rthread {
	pid_t tid;
	struct user_regs_struct regs;
	const uint8_t *xstate;
	uint32_t xstate_len;
	struct crest_thread th;
	char comm[16];
	const uint8_t *sigq;
	uint32_t nsigq;
};

struct fdplan {
	int target;              /* fd number in the new process */
	int src;                 /* fd in crest (>= the high base) */
	bool cloexec;
};

struct rst {
	crest_ctx *ctx;
	crest_image *img;
	const struct crest_restore_opts *o;
	struct crest_process proc;
	const char *exe, *cwd, *root;
	struct rthread *th;
	size_t nth;
	struct crest_table_view vmas, fds, acts, shq, groups;
	const uint8_t *auxv;
	uint32_t auxv_len;
	/* the region */
	uint8_t *region;
	uint64_t region_start, region_len;
	struct rst_args *args;
	/* fds */
	struct fdplan *fp;
	size_t nfp, cap_fp;
	int status_r, go_w;
	pid_t pid;               /* the restored process, in crest's namespace */
	pid_t child;             /* crest's child: pid, or the new namespace's init */
	bool pidns;
	bool vdso_proxy;         /* the image's vDSO becomes trampolines to this kernel's */
	uint64_t spec_base;      /* with vdso_proxy: where this kernel's [vvar]..[vdso] go */
	uint64_t new_vdso, new_vdso_len; /* with vdso_proxy: this kernel's [vdso] in the process */
};

/* ---- reading the image ------------------------------------------------ */

static int need(struct rst *r, uint32_t type, uint32_t min, struct crest_table_view *tv, crest_error **err)
{
	const struct crest_note_ref *n = crest_image_find(r->img, CREST_NOTE_OWNER, type);
	if (!n)
		return crest_err(err, EBADMSG, "image %s lacks crest note %#x; it cannot be restored", r->img->path, type);
	return crest_table_view(n, min, tv, err);
}

/* Mapping `i` of the image (table entries are only 4-byte aligned). */
static struct crest_vma_entry vma_at(const struct rst *r, uint32_t i)
{
	struct crest_vma_entry e;
	memcpy(&e, r->vmas.ents + (size_t)i * r->vmas.entsize, sizeof(e));
	return e;
}

/* Where the image had its [vdso]: [*start, *end), or 0/0. */
static void image_vdso(const struct rst *r, uint64_t *start, uint64_t *end)
{
	*start = *end = 0;
	for (uint32_t i = 0; i < r->vmas.count; i++) {
		struct crest_vma_entry e = vma_at(r, i);
		if (e.kind == CREST_VMA_VDSO) {
			*start = e.start;
			*end = e.end;
		}
	}
}

static int read_image(struct rst *r, crest_error **err)
{
	struct crest_table_view tv;
	int ret = need(r, CREST_NT_PROCESS, sizeof(struct crest_process), &tv, err);
	if (ret < 0)
		return ret;
	memcpy(&r->proc, tv.ents, sizeof(r->proc));
	r->exe = crest_table_string(&tv, r->proc.exe);
	r->cwd = crest_table_string(&tv, r->proc.cwd);
	r->root = crest_table_string(&tv, r->proc.root);
	if ((ret = need(r, CREST_NT_VMAS, sizeof(struct crest_vma_entry), &r->vmas, err)) < 0 ||
	    (ret = need(r, CREST_NT_FDS, sizeof(struct crest_fd_entry), &r->fds, err)) < 0 ||
	    (ret = need(r, CREST_NT_SIGACTIONS, sizeof(struct crest_sigaction), &r->acts, err)) < 0 ||
	    (ret = need(r, CREST_NT_SHARED_SIGQUEUE, sizeof(struct crest_siginfo), &r->shq, err)) < 0 ||
	    (ret = need(r, CREST_NT_GROUPS, sizeof(uint32_t), &r->groups, err)) < 0)
		return ret;
	if (r->groups.entsize != sizeof(uint32_t))
		return crest_err(err, EBADMSG, "image %s: unexpected group table layout", r->img->path);
	if (geteuid() != 0 && (r->proc.uid[1] != geteuid() || r->proc.gid[1] != getegid()))
		return crest_err(err, EPERM,
				 "cannot restore %s: it ran as uid %u gid %u, and only root can restore another user's process",
				 r->img->path, r->proc.uid[1], r->proc.gid[1]);
	const struct crest_note_ref *ax = crest_image_find(r->img, "CORE", NT_AUXV);
	if (!ax)
		return crest_err(err, EBADMSG, "image %s has no NT_AUXV note", r->img->path);
	r->auxv = ax->desc;
	r->auxv_len = ax->len;

	size_t cap = 0;
	struct rthread *cur = NULL;
	for (size_t i = 0; i < r->img->nnotes; i++) {
		const struct crest_note_ref *n = &r->img->notes[i];
		if (!strcmp(n->owner, "CORE") && n->type == NT_PRSTATUS) {
			if (crest_grow(&r->th, &cap, r->nth + 1, sizeof(*r->th)) < 0)
				return crest_err(err, ENOMEM, "out of memory");
			cur = &r->th[r->nth++];
			memset(cur, 0, sizeof(*cur));
			struct elf_prstatus ps;
			if (n->len < sizeof(ps))
				return crest_err(err, EBADMSG, "image %s: NT_PRSTATUS too short", r->img->path);
			memcpy(&ps, n->desc, sizeof(ps));
			cur->tid = ps.pr_pid;
			memcpy(&cur->regs, &ps.pr_reg, sizeof(cur->regs));
		} else if (cur && !strcmp(n->owner, "LINUX") && n->type == NT_X86_XSTATE) {
			cur->xstate = n->desc;
			cur->xstate_len = n->len;
		} else if (cur && !strcmp(n->owner, CREST_NOTE_OWNER) && n->type == CREST_NT_THREAD) {
			struct crest_table_view t;
			int rr = crest_table_view(n, sizeof(struct crest_thread), &t, err);
			if (rr < 0)
				return rr;
			memcpy(&cur->th, t.ents, sizeof(cur->th));
			snprintf(cur->comm, sizeof(cur->comm), "%s", crest_table_string(&t, cur->th.comm));
		} else if (cur && !strcmp(n->owner, CREST_NOTE_OWNER) && n->type == CREST_NT_SIGQUEUE) {
			struct crest_table_view t;
			int rr = crest_table_view(n, sizeof(struct crest_siginfo), &t, err);
			if (rr < 0)
				return rr;
			if (t.entsize != sizeof(struct crest_siginfo))
				return crest_err(err, EBADMSG, "image %s: unexpected siginfo size", r->img->path);
			cur->sigq = t.ents;
			cur->nsigq = t.count;
		}
	}
	if (!r->nth || r->th[0].tid != (pid_t)r->proc.pid)
		return crest_err(err, EBADMSG, "image %s: the first thread is not the process leader", r->img->path);
	for (size_t i = 0; i < r->nth; i++)
		if (!r->th[i].xstate || r->th[i].th.tid != (uint32_t)r->th[i].tid)
			return crest_err(err, EBADMSG, "image %s: thread %d lacks its XSAVE or crest note", r->img->path,
					 r->th[i].tid);
	return 0;
}

/* Is this kernel's vDSO byte for byte the one the process was using?
 * Returns 0 (same), 1 (different: calls must be routed) or -errno. */
static int vdso_differs(struct rst *r, crest_error **err)
{
	const uint8_t *mine = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
	for (size_t i = 1; mine && i < r->img->phnum; i++) {
		const Elf64_Phdr *p = &r->img->ph[i];
		for (uint32_t k = 0; k < r->vmas.count; k++) {
			struct crest_vma_entry e = vma_at(r, k);
			if (e.kind != CREST_VMA_VDSO || p->p_vaddr != e.start)
				continue;
			uint8_t buf[4096];
			for (uint64_t o = 0; o < p->p_filesz; o += sizeof(buf)) {
				size_t n = p->p_filesz - o < sizeof(buf) ? (size_t)(p->p_filesz - o) : sizeof(buf);
				if (pread(r->img->fd, buf, n, (off_t)(p->p_offset + o)) != (ssize_t)n)
					return crest_err_sys(err, errno, "reading %s", r->img->path);
				if (memcmp(buf, mine + o, n))
					return 1;
			}
		}
	}
	return 0;
}

/* ---- the region ------------------------------------------------------- */

struct span {
	uint64_t s, e;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->s < y->s ? -1 : x->s > y->s;
}

/* A free range of `len` bytes, away from every mapping of the image and
 * of crest itself (and from [avoid_s, avoid_e)), searched from high
 * addresses down. */
static int find_region(struct rst *r, uint64_t len, uint64_t avoid_s, uint64_t avoid_e, uint64_t *out,
		       crest_error **err)
{
	cleanup_free struct span *sp = NULL;
	size_t n = 0, cap = 0;
	if (avoid_e > avoid_s) {
		if (crest_grow(&sp, &cap, n + 1, sizeof(*sp)) < 0)
			return crest_err(err, ENOMEM, "out of memory");
		sp[n++] = (struct span){avoid_s, avoid_e};
	}
	for (uint32_t i = 0; i < r->vmas.count; i++) {
		struct crest_vma_entry e = vma_at(r, i);
		if (crest_grow(&sp, &cap, n + 1, sizeof(*sp)) < 0)
			return crest_err(err, ENOMEM, "out of memory");
		sp[n++] = (struct span){e.start, e.end};
	}
	cleanup_fclose FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return crest_err_sys(err, errno, "reading /proc/self/maps");
	unsigned long s, e;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (crest_grow(&sp, &cap, n + 1, sizeof(*sp)) < 0)
			return crest_err(err, ENOMEM, "out of memory");
		sp[n++] = (struct span){s, e};
	}
	qsort(sp, n, sizeof(*sp), cmp_span);
	const uint64_t guard = 1ull << 20, top = 0x7ff000000000ull, bottom = 1ull << 32;
	uint64_t hi = top;
	for (size_t i = n; i-- > 0;) {
		if (sp[i].s >= hi)
			continue;
		uint64_t gap_lo = sp[i].e + guard;
		if (sp[i].e < hi && hi - guard > gap_lo && hi - guard - gap_lo >= len) {
			*out = (hi - guard - len) & ~0xfffull;
			return 0;
		}
		hi = sp[i].s < hi ? sp[i].s : hi;
		if (hi < bottom)
			break;
	}
	if (hi > bottom + len + guard) {
		*out = (hi - guard - len) & ~0xfffull;
		return 0;
	}
	return crest_err(err, ENOMEM, "image %s leaves no free address range for crest's restorer (%lu bytes)",
			 r->img->path, (unsigned long)len);
}

/* The kernel's [vvar], [vvar_vclock] and [vdso] in crest itself (the child
 * inherits them where they are), with their CREST_VMA_* kinds. */
static int own_specials(struct rst_move *mv, uint32_t *kinds, uint32_t *n, const char *img_path, crest_error **err)
{
	cleanup_fclose FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return crest_err_sys(err, errno, "reading /proc/self/maps");
	char line[512];
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char name[64] = "";
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &s, &e, name) < 2)
			continue;
		uint32_t kind;
		if (!strcmp(name, "[vvar]"))
			kind = CREST_VMA_VVAR;
		else if (!strcmp(name, "[vvar_vclock]"))
			kind = CREST_VMA_VVAR_VCLOCK;
		else if (!strcmp(name, "[vdso]"))
			kind = CREST_VMA_VDSO;
		else
			continue;
		if (*n >= 3)
			return crest_err(err, EINVAL, "restoring %s: more special mappings than expected", img_path);
		mv[*n] = (struct rst_move){.from = s, .len = e - s, .to = 0};
		kinds[(*n)++] = kind;
	}
	return 0;
}

/* ---- fds -------------------------------------------------------------- */

static int plan_fd(struct rst *r, int target, int src, bool cloexec, crest_error **err)
{
	int hi = fcntl(src, F_DUPFD_CLOEXEC, 1024);
	if (hi < 0)
		return crest_err_sys(err, errno, "restoring %s: duplicating fd %d", r->img->path, src);
	if (crest_grow(&r->fp, &r->cap_fp, r->nfp + 1, sizeof(*r->fp)) < 0) {
		close(hi);
		return crest_err(err, ENOMEM, "out of memory");
	}
	r->fp[r->nfp++] = (struct fdplan){.target = target, .src = hi, .cloexec = cloexec};
	return 0;
}

/* Open `path` like the process had it, at its offset. */
static int reopen(struct rst *r, const struct crest_fd_entry *e, const char *path, crest_error **err)
{
	int flags = (int)(e->open_flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC));
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return crest_err_sys(err, errno, "restoring %s: reopening fd %d (%s)", r->img->path, e->fd, path);
	if (e->kind == CREST_FD_REG && lseek(fd, (off_t)e->pos, SEEK_SET) < 0) {
		int x = errno;
		close(fd);
		return crest_err_sys(err, x, "restoring %s: seeking fd %d (%s) to %lu", r->img->path, e->fd, path,
				     (unsigned long)e->pos);
	}
	int ret = plan_fd(r, e->fd, fd, e->flags & CREST_FD_F_CLOEXEC, err);
	close(fd);
	return ret;
}

static int plan_fds(struct rst *r, int *max_target, crest_error **err)
{
	bool have[3] = {false, false, false};
	int ret;
	*max_target = 2;
	for (uint32_t i = 0; i < r->fds.count; i++) {
		struct crest_fd_entry e;
		memcpy(&e, r->fds.ents + (size_t)i * r->fds.entsize, sizeof(e));
		const char *path = crest_table_string(&r->fds, e.path);
		if (e.fd > *max_target)
			*max_target = e.fd;
		if (e.fd <= 2 && ((r->o->flags & CREST_RESTORE_SHELL_JOB) || r->o->stdio[e.fd] >= 0))
			continue; /* the caller's stdio instead */
		if (e.flags & CREST_FD_F_UNSUPPORTED) {
			if (e.fd > 2)
				log_warn(r->ctx, "restoring %s: fd %d (%s) was recorded as unsupported; it stays closed",
					 r->img->path, e.fd, path);
			continue;
		}
		if ((ret = reopen(r, &e, path, err)) < 0)
			return ret;
		if (e.fd <= 2)
			have[e.fd] = true;
	}
	for (int i = 0; i < 3; i++) {
		if (have[i])
			continue;
		int src = r->o->stdio[i] >= 0 ? r->o->stdio[i] : i;
		if (fcntl(src, F_GETFD) < 0)
			continue; /* crest itself has no such fd: leave it closed */
		if ((ret = plan_fd(r, i, src, false, err)) < 0)
			return ret;
	}
	return 0;
}

/* ---- the child -------------------------------------------------------- */

/* Runs in the new process, still with crest's memory: put the fds in
 * place, go to the working directory, enter the blob.  Raw calls only. */
__attribute__((noreturn)) static void child_main(struct rst *r, int status_w)
{
	for (size_t i = 0; i < r->nfp; i++) {
		if (dup2(r->fp[i].src, r->fp[i].target) < 0)
			_exit(120);
		if (r->fp[i].cloexec)
			fcntl(r->fp[i].target, F_SETFD, FD_CLOEXEC);
	}
	/* close everything else */
	int hi = 0;
	for (size_t i = 0; i < r->nfp; i++)
		if (r->fp[i].target > hi)
			hi = r->fp[i].target;
	for (int fd = 0; fd <= hi; fd++) {
		bool keep = false;
		for (size_t i = 0; i < r->nfp && !keep; i++)
			keep = r->fp[i].target == fd;
		if (!keep)
			close(fd);
	}
	syscall(SYS_close_range, hi + 1, ~0u, 0);
	(void)status_w;
	if (chdir(r->cwd) < 0)
		_exit(121);
	/* glibc registered an rseq area in crest's TLS, which the restorer
	 * unmaps: the kernel would then kill the process on its next
	 * preemption.  Unregister it (the length glibc used is the one the
	 * kernel wants back). */
	if (__rseq_size) {
		void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
		const unsigned lens[] = {__rseq_size, 32, 20};
		for (size_t i = 0; i < ARRAY_SIZE(lens); i++)
			if (syscall(SYS_rseq, area, lens[i], 1 /* RSEQ_FLAG_UNREGISTER */, 0x53053053) == 0)
				break;
	}
	void (*entry)(struct rst_args *, uint64_t) = (void (*)(struct rst_args *, uint64_t))(void *)r->region;
	const struct rst_thread *t0 = (const struct rst_thread *)(const void *)((uint8_t *)r->args + r->args->thread_off);
	entry(r->args, t0->stack_top);
	_exit(122);
}

static volatile pid_t init_child;

/* A namespace's init only gets the signals it handles: pass them on. */
static void init_forward(int sig)
{
	if (init_child > 0)
		kill(init_child, sig);
}

/*
 * With --pidns: pid 1 of the new namespace.  Creates the process with the
 * image's PID (free in a fresh namespace), then reaps whatever ends in the
 * namespace and exits the way the restored process did.
 */
__attribute__((noreturn)) static void init_main(struct rst *r, int status_w)
{
	pid_t want = r->th[0].tid;
	struct clone_args ca = {.exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)&want, .set_tid_size = 1};
	long c = syscall(SYS_clone3, &ca, sizeof(ca));
	if (c == 0)
		child_main(r, status_w);
	if (c < 0)
		_exit(123);
	init_child = (pid_t)c;
	struct sigaction sa = {.sa_handler = init_forward};
	sigemptyset(&sa.sa_mask);
	const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaction(fwd[i], &sa, NULL);
	syscall(SYS_close_range, 0, ~0u, 0);
	prctl(PR_SET_NAME, "crest-init");
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p == (pid_t)c)
			_exit(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
		if (p < 0 && errno == ECHILD)
			_exit(0);
	}
}

/* With --pidns: the restored process's PID in crest's namespace (the only
 * child of the namespace's init). */
static pid_t find_outer_pid(pid_t init)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", init, init);
	cleanup_free char *s = NULL;
	if (crest_read_file(path, &s) <= 0)
		return 0;
	return (pid_t)atoi(s);
}

/* The namespace-local TID (last NSpid entry) of thread `tid` of `pid`. */
static pid_t inner_tid(pid_t pid, pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	cleanup_free char *s = NULL;
	if (crest_read_file(path, &s) <= 0)
		return 0;
	char *l = strstr(s, "NSpid:");
	if (!l)
		return tid;
	l[strcspn(l, "\n")] = '\0';
	char *last = strrchr(l, '\t');
	return last ? (pid_t)atoi(last + 1) : tid;
}

static const char *phase_name(uint32_t p)
{
	static const char *const n[] = {"?", "moving the vDSO", "unmapping crest", "creating a mapping",
					"waiting for crest", "setting protections",
					"installing sigactions", "setting the mm fields (PR_SET_MM_MAP)",
					"setting up a thread", "queueing pending signals", "setting process attributes",
					"setting credentials"};
	return p < ARRAY_SIZE(n) ? n[p] : "?";
}

/* Read one message from the restorer; a dead child is an error. */
static int expect_msg(struct rst *r, struct rst_msg *m, crest_error **err)
{
	ssize_t n;
	do
		n = read(r->status_r, m, sizeof(*m));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*m) && m->kind != RST_MSG_ERROR)
		return 0;
	if (n == (ssize_t)sizeof(*m))
		return crest_err(err, (int)-m->err,
				 "restoring %s: the new process (pid %d) failed while %s (detail %#lx): %s",
				 r->img->path, r->pid, phase_name(m->phase), (unsigned long)m->detail,
				 strerror((int)-m->err));
	int st = 0;
	waitpid(r->child, &st, 0);
	r->child = r->pid = 0;
	return crest_err(err, EIO, "restoring %s: the new process died before it was ready (%s %d)", r->img->path,
			 WIFSIGNALED(st) ? "signal" : "exit status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/* ---- the arguments ---------------------------------------------------- */

/* A stored segment inside the vDSO: that memory comes from the running
 * kernel, not from the image (the image keeps it to compare). */
static bool special_segment(struct rst *r, const Elf64_Phdr *p)
{
	for (uint32_t i = 0; i < r->vmas.count; i++) {
		struct crest_vma_entry e = vma_at(r, i);
		if (p->p_vaddr >= e.start && p->p_vaddr < e.end)
			return e.kind == CREST_VMA_VDSO || e.kind == CREST_VMA_VVAR || e.kind == CREST_VMA_VVAR_VCLOCK;
	}
	return false;
}

static uint32_t madv_of(uint64_t vmflags)
{
	return ((vmflags & CREST_VMF_DC) ? RST_MADV_DONTFORK : 0) | ((vmflags & CREST_VMF_DD) ? RST_MADV_DONTDUMP : 0) |
	       ((vmflags & CREST_VMF_HG) ? RST_MADV_HUGEPAGE : 0) | ((vmflags & CREST_VMF_NH) ? RST_MADV_NOHUGEPAGE : 0) |
	       ((vmflags & CREST_VMF_WF) ? RST_MADV_WIPEONFORK : 0);
}

struct abuf {
	uint8_t *b;
	size_t len, cap;
};

/* Append `len` bytes (8-aligned) and return their offset. */
static uint64_t put(struct abuf *a, const void *p, size_t len)
{
	size_t off = ALIGN_UP(a->len, 8);
	if (crest_grow(&a->b, &a->cap, off + len + 8, 1) < 0)
		return 0;
	memset(a->b + a->len, 0, off - a->len);
	if (p)
		memcpy(a->b + off, p, len);
	else
		memset(a->b + off, 0, len);
	a->len = off + len;
	return off;
}

static int build_args(struct rst *r, int helper_base, int status_w, int go_r, uint64_t blob_len,
		      uint64_t stacks, uint64_t scratch, struct abuf *ab, crest_error **err)
{
	struct rst_args A;
	memset(&A, 0, sizeof(A));
	A.magic = RST_MAGIC;
	A.blob_start = r->region_start;
	A.blob_end = r->region_start + r->region_len;
	A.scratch = scratch;
	A.task_size = 0x7ffffffff000ull;
	A.umask = r->proc.umask;
	A.personality = r->proc.personality;
	/* Credentials: as root, the process gets its own back; otherwise it
	 * runs as crest, which must then be its user (checked in read_image). */
	A.creds = geteuid() == 0;
	memcpy(A.uid, r->proc.uid, sizeof(A.uid));
	memcpy(A.gid, r->proc.gid, sizeof(A.gid));
	A.cap_inh = r->proc.cap_inh;
	A.cap_prm = r->proc.cap_prm;
	A.cap_eff = r->proc.cap_eff;
	A.cap_bnd = r->proc.cap_bnd;
	A.cap_amb = r->proc.cap_amb;
	A.no_new_privs = r->proc.no_new_privs;
	for (int k = 0; k < CREST_RLIMIT_COUNT && k < 16; k++) {
		A.rlim[k][0] = r->proc.rlimits[k].cur;
		A.rlim[k][1] = r->proc.rlimits[k].max;
	}
	int next_fd = helper_base;
	int ret;
	A.status_fd = next_fd++;
	A.go_fd = next_fd++;
	A.image_fd = next_fd++;
	if ((ret = plan_fd(r, A.status_fd, status_w, false, err)) < 0 || (ret = plan_fd(r, A.go_fd, go_r, false, err)) < 0 ||
	    (ret = plan_fd(r, A.image_fd, r->img->fd, false, err)) < 0)
		return ret;
	int exe = open(r->exe, O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return crest_err_sys(err, errno, "restoring %s: opening the executable %s", r->img->path, r->exe);
	A.mm.exe_fd = (uint32_t)next_fd++;
	ret = plan_fd(r, (int)A.mm.exe_fd, exe, false, err);
	close(exe);
	if (ret < 0)
		return ret;
	A.mm.start_code = r->proc.start_code;
	A.mm.end_code = r->proc.end_code;
	A.mm.start_data = r->proc.start_data;
	A.mm.end_data = r->proc.end_data;
	A.mm.start_brk = r->proc.start_brk;
	A.mm.brk = r->proc.brk;
	A.mm.start_stack = r->proc.start_stack;
	A.mm.arg_start = r->proc.arg_start;
	A.mm.arg_end = r->proc.arg_end;
	A.mm.env_start = r->proc.env_start;
	A.mm.env_end = r->proc.env_end;
	A.mm.auxv_size = r->auxv_len;
	for (uint32_t i = 0; i < r->acts.count && i < 64; i++) {
		struct crest_sigaction a;
		memcpy(&a, r->acts.ents + (size_t)i * r->acts.entsize, sizeof(a));
		if ((a.handler || a.flags || a.mask) && i + 1 != SIGKILL && i + 1 != SIGSTOP) {
			memcpy(&A.act[i], &a, sizeof(a));
			A.act_set |= 1ull << i;
		}
	}
	put(ab, &A, sizeof(A)); /* at offset 0; filled in again below */

	/* mappings, and the files behind them */
	struct rst_vma *vv = calloc(r->vmas.count ? r->vmas.count : 1, sizeof(*vv));
	if (!vv)
		return crest_err(err, ENOMEM, "out of memory");
	struct rst_move mv[3];
	uint32_t kinds[3], nmv = 0;
	ret = own_specials(mv, kinds, &nmv, r->img->path, err);
	for (uint32_t i = 0; !ret && i < r->vmas.count; i++) {
		struct crest_vma_entry e = vma_at(r, i);
		const char *path = crest_table_string(&r->vmas, e.path);
		if (r->vdso_proxy && (e.kind == CREST_VMA_VVAR || e.kind == CREST_VMA_VVAR_VCLOCK))
			continue; /* the old vDSO's data pages: nothing reads them any more */
		if (!r->vdso_proxy && (e.kind == CREST_VMA_VVAR || e.kind == CREST_VMA_VVAR_VCLOCK || e.kind == CREST_VMA_VDSO)) {
			bool found = false;
			for (uint32_t k = 0; k < nmv; k++) {
				if (kinds[k] == e.kind && mv[k].len == e.end - e.start) {
					mv[k].to = e.start;
					found = true;
				}
			}
			if (!found)
				ret = crest_err(err, ENOTSUP,
						"restoring %s: this kernel's %s does not match the image's (%lu bytes); restore on the kernel the image was taken on",
						r->img->path, path, (unsigned long)(e.end - e.start));
			continue;
		}
		if (e.kind == CREST_VMA_VSYSCALL)
			continue;
		if (e.kind == CREST_VMA_OTHER_SPECIAL) {
			ret = crest_err(err, ENOTSUP, "restoring %s: the special mapping %s at %#lx cannot be recreated",
					r->img->path, path, (unsigned long)e.start);
			continue;
		}
		struct rst_vma *v = &vv[A.nvma++];
		v->start = e.start;
		v->end = e.end;
		v->prot = e.prot;
		v->fd = -1;
		v->fill = e.stored > 0 || e.kind == CREST_VMA_VDSO;
		v->madv = madv_of(e.vmflags);
		v->map_flags = (e.flags & CREST_VMA_F_SHARED) ? MAP_SHARED : MAP_PRIVATE;
		if (e.flags & CREST_VMA_F_GROWSDOWN)
			v->map_flags |= MAP_GROWSDOWN;
		if (e.kind != CREST_VMA_FILE) {
			v->map_flags |= MAP_ANONYMOUS;
			continue;
		}
		v->pgoff = e.pgoff;
		bool rw = (e.flags & CREST_VMA_F_SHARED) && (e.prot & PROT_WRITE);
		int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (fd < 0) {
			ret = crest_err_sys(err, errno, "restoring %s: opening mapped file %s", r->img->path, path);
			continue;
		}
		v->fd = next_fd++;
		ret = plan_fd(r, v->fd, fd, false, err);
		close(fd);
	}
	if (r->vdso_proxy) {
		/* this kernel's specials go to spec_base, keeping their layout */
		uint64_t lo = ~0ull;
		for (uint32_t k = 0; k < nmv; k++)
			lo = mv[k].from < lo ? mv[k].from : lo;
		for (uint32_t k = 0; k < nmv; k++)
			mv[k].to = r->spec_base + (mv[k].from - lo);
	}
	for (uint32_t k = 0; !ret && k < nmv; k++)
		if (!mv[k].to)
			ret = crest_err(err, ENOTSUP,
					"restoring %s: the image has no place for this kernel's special mapping at %#lx; restore on the kernel the image was taken on",
					r->img->path, (unsigned long)mv[k].from);
	if (ret < 0) {
		free(vv);
		return ret;
	}
	struct rst_args *ap;
	uint64_t vma_off = put(ab, vv, A.nvma * sizeof(*vv));
	free(vv);
	uint64_t move_off = put(ab, mv, nmv * sizeof(mv[0]));

	uint64_t groups_off = put(ab, r->groups.ents, (size_t)r->groups.count * 4);
	uint64_t shq_off = put(ab, r->shq.ents, (size_t)r->shq.count * 128);
	uint64_t auxv_off = put(ab, r->auxv, r->auxv_len);
	uint64_t *sigq_offs = calloc(r->nth, sizeof(uint64_t));
	if (!sigq_offs)
		return crest_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nth; i++)
		sigq_offs[i] = put(ab, r->th[i].sigq, (size_t)r->th[i].nsigq * 128);
	uint64_t thread_off = put(ab, NULL, r->nth * sizeof(struct rst_thread));
	if (!ab->b) {
		free(sigq_offs);
		return crest_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < r->nth; i++) {
		struct rst_thread t;
		memset(&t, 0, sizeof(t));
		const struct crest_thread *c = &r->th[i].th;
		t.tid = (uint32_t)r->th[i].tid;
		t.nsigq = r->th[i].nsigq;
		t.sigq_off = sigq_offs[i];
		t.clear_child_tid = c->clear_child_tid;
		t.robust_list = c->robust_list;
		t.robust_list_len = c->robust_list_len;
		t.rseq_addr = c->rseq_addr;
		t.rseq_len = c->rseq_len;
		t.rseq_sig = c->rseq_sig;
		t.altstack_sp = c->altstack_sp;
		t.altstack_size = c->altstack_size;
		t.altstack_flags = c->altstack_flags;
		t.stack_top = stacks + (i + 1) * RST_STACK_SIZE;
		memcpy(t.comm, r->th[i].comm, sizeof(t.comm));
		memcpy(ab->b + thread_off + i * sizeof(t), &t, sizeof(t));
	}
	free(sigq_offs);
	ap = (struct rst_args *)(void *)ab->b;
	ap->size = (uint32_t)ab->len;
	ap->nvma = A.nvma;
	ap->vma_off = vma_off;
	ap->nmove = nmv;
	ap->move_off = move_off;
	ap->ngroups = r->groups.count;
	ap->groups_off = groups_off;
	ap->nshq = r->shq.count;
	ap->shq_off = shq_off;
	ap->auxv_off = auxv_off;
	ap->nthreads = (uint32_t)r->nth;
	ap->thread_off = thread_off;
	(void)blob_len;
	return 0;
}

/* ---- filling memory and finishing -------------------------------------- */

struct filler {
	struct rst *r;
	size_t first, last;      /* segments [first, last) */
	uint64_t skip_head;      /* bytes of segment `first` another filler does */
	uint64_t only_head;      /* if non-zero: do only this many bytes of `last - 1` */
	int err;                 /* errno of a failed write */
	ssize_t got, want;
	uint64_t at;
};

/* Write segments [first, last) of the image into the new process: pread()
 * into a buffer that stays in cache, then process_vm_writev() (both copies
 * run in the kernel; see the note in image_read.c on user-space touches). */
static void *fill_part(void *arg)
{
	struct filler *f = arg;
	struct rst *r = f->r;
	const size_t bsz = 2u << 20;
	uint8_t *buf = malloc(bsz);
	if (!buf) {
		f->err = ENOMEM;
		return NULL;
	}
	for (size_t i = f->first; i < f->last && !f->err; i++) {
		const Elf64_Phdr *p = &r->img->ph[1 + i];
		if (special_segment(r, p))
			continue;
		uint64_t off = i == f->first ? f->skip_head : 0;
		uint64_t end = (f->only_head && i == f->last - 1) ? f->only_head : p->p_filesz;
		while (off < end) {
			size_t n = end - off < bsz ? (size_t)(end - off) : bsz;
			ssize_t got = pread(r->img->fd, buf, n, (off_t)(p->p_offset + off));
			struct iovec l = {buf, (size_t)got}, rm = {(void *)(uintptr_t)(p->p_vaddr + off), (size_t)got};
			ssize_t w = got > 0 ? process_vm_writev(r->pid, &l, 1, &rm, 1, 0) : -1;
			if (got <= 0 || w != got) {
				f->err = got <= 0 ? (got < 0 ? errno : EIO) : (w < 0 ? errno : EFAULT);
				f->got = w;
				f->want = got;
				f->at = p->p_vaddr + off;
				break;
			}
			off += (uint64_t)got;
		}
	}
	free(buf);
	return NULL;
}

/* Two writers, one per core, each taking half of the bytes. */
static int fill_memory(struct rst *r, crest_error **err)
{
	size_t nseg = r->img->phnum - 1;
	uint64_t total = 0;
	for (size_t i = 0; i < nseg; i++)
		total += r->img->ph[1 + i].p_filesz;
	struct filler f[2] = {{.r = r, .first = 0, .last = nseg}, {.r = r, .first = nseg, .last = nseg}};
	/* split at half the bytes, inside a segment if need be (page-aligned) */
	uint64_t acc = 0;
	for (size_t i = 0; i < nseg && total > (8u << 20); i++) {
		uint64_t len = r->img->ph[1 + i].p_filesz;
		if (acc + len >= total / 2) {
			uint64_t cut = ALIGN_UP(total / 2 - acc, 4096);
			if (cut >= len) {
				f[0].last = i + 1;
				f[1].first = i + 1;
			} else {
				f[0].last = i + 1;
				f[0].only_head = cut;
				f[1].first = i;
				f[1].skip_head = cut;
			}
			f[1].last = nseg;
			break;
		}
		acc += len;
	}
	pthread_t t;
	bool two = f[1].first < f[1].last && pthread_create(&t, NULL, fill_part, &f[1]) == 0;
	if (!two && f[1].first < f[1].last) {
		f[0].last = nseg;
		f[0].only_head = 0;
	}
	fill_part(&f[0]);
	if (two)
		pthread_join(t, NULL);
	for (int k = 0; k < 2; k++)
		if (f[k].err)
			return crest_err_sys(err, f[k].err, "restoring %s: writing memory at %#lx into pid %d (%zd of %zd bytes)",
					     r->img->path, (unsigned long)f[k].at, r->pid, f[k].got, f[k].want);
	return 0;
}

/* The dynamic symbols of a vDSO image: name and offset of each function. */
static const Elf64_Sym *vdso_syms(const uint8_t *b, size_t len, const char **strtab, size_t *n)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)(const void *)b;
	if (len < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_shoff > len ||
	    e->e_shnum > (len - e->e_shoff) / sizeof(Elf64_Shdr))
		return NULL;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(const void *)(b + e->e_shoff);
	for (int i = 0; i < e->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= e->e_shnum)
			continue;
		const Elf64_Shdr *st = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset || st->sh_offset > len ||
		    st->sh_size > len - st->sh_offset || !st->sh_size || b[st->sh_offset + st->sh_size - 1])
			return NULL;
		*strtab = (const char *)b + st->sh_offset;
		*n = sh[i].sh_size / sizeof(Elf64_Sym);
		return (const Elf64_Sym *)(const void *)(b + sh[i].sh_offset);
	}
	return NULL;
}

/*
 * Put the image's own vDSO back at its address, with every function
 * replaced by a jump to the same function of this kernel's vDSO (which
 * the restorer moved to spec_base): the process keeps calling the old
 * addresses, and the code that runs is the one matching this kernel's
 * data pages.
 */
static int write_vdso_proxy(struct rst *r, crest_error **err)
{
	const Elf64_Phdr *seg = NULL;
	uint64_t start, end;
	image_vdso(r, &start, &end);
	for (size_t i = 1; i < r->img->phnum; i++)
		if (r->img->ph[i].p_vaddr == start && r->img->ph[i].p_filesz == end - start)
			seg = &r->img->ph[i];
	if (!start)
		return 0; /* the process had no vDSO */
	if (!seg)
		return crest_err(err, EBADMSG, "restoring %s: the image does not hold the process's vDSO", r->img->path);
	cleanup_free uint8_t *old = malloc(seg->p_filesz);
	if (!old)
		return crest_err(err, ENOMEM, "out of memory");
	if (pread(r->img->fd, old, seg->p_filesz, (off_t)seg->p_offset) != (ssize_t)seg->p_filesz)
		return crest_err_sys(err, errno, "reading %s", r->img->path);
	const uint8_t *mine = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
	struct rst_move own[3];
	uint32_t kinds[3], nown = 0;
	int ret = own_specials(own, kinds, &nown, r->img->path, err);
	if (ret < 0)
		return ret;
	uint64_t lo = ~0ull, mylen = 0, new_base = 0;
	for (uint32_t k = 0; k < nown; k++)
		lo = own[k].from < lo ? own[k].from : lo;
	for (uint32_t k = 0; k < nown; k++)
		if (kinds[k] == CREST_VMA_VDSO) {
			new_base = r->spec_base + (own[k].from - lo);
			mylen = own[k].len;
		}
	const char *ostr, *nstr;
	size_t on, nn;
	const Elf64_Sym *os = vdso_syms(old, seg->p_filesz, &ostr, &on);
	const Elf64_Sym *ns = mine ? vdso_syms(mine, mylen, &nstr, &nn) : NULL;
	if (!os || !ns || !new_base)
		return crest_err(err, ENOTSUP, "restoring %s: cannot read the symbols of the old or the new vDSO", r->img->path);
	size_t patched = 0;
	for (size_t i = 0; i < on; i++) {
		if (ELF64_ST_TYPE(os[i].st_info) != STT_FUNC || !os[i].st_value)
			continue;
		const char *name = ostr + os[i].st_name;
		uint64_t to = 0;
		for (size_t k = 0; k < nn && !to; k++)
			if (ELF64_ST_TYPE(ns[k].st_info) == STT_FUNC && ns[k].st_value && !strcmp(nstr + ns[k].st_name, name))
				to = new_base + ns[k].st_value;
		if (!to)
			return crest_err(err, ENOTSUP,
					 "restoring %s: the process used vDSO function %s, which this kernel's vDSO lacks",
					 r->img->path, name);
		if (os[i].st_value + 12 > seg->p_filesz)
			return crest_err(err, EBADMSG, "restoring %s: vDSO symbol %s lies outside the vDSO", r->img->path, name);
		uint8_t *p = old + os[i].st_value;
		p[0] = 0x48; /* movabs $to, %rax */
		p[1] = 0xb8;
		memcpy(p + 2, &to, 8);
		p[10] = 0xff; /* jmp *%rax */
		p[11] = 0xe0;
		patched++;
	}
	struct iovec l = {old, seg->p_filesz}, rm = {(void *)(uintptr_t)start, seg->p_filesz};
	if (process_vm_writev(r->pid, &l, 1, &rm, 1, 0) != (ssize_t)seg->p_filesz)
		return crest_err_sys(err, errno, "restoring %s: writing the vDSO trampolines into pid %d", r->img->path, r->pid);
	r->new_vdso = new_base;
	r->new_vdso_len = mylen;
	log_debug(r->ctx, "restore %s: %zu vDSO functions routed to %#lx", r->img->path, patched, (unsigned long)new_base);
	return 0;
}

static void final_regs(struct user_regs_struct *g, const struct crest_thread *t)
{
	switch (t->restart) {
	case CREST_SC_RESTART:
		g->rax = g->orig_rax;
		g->rip -= 2;
		break;
	case CREST_SC_EINTR:
		g->rax = (unsigned long)-EINTR;
		break;
	}
	g->orig_rax = (unsigned long)-1;
}

static int finish(struct rst *r, crest_error **err)
{
	struct crest_freezer fz;
	int ret = crest_freeze(r->ctx, r->pid, &fz, err);
	if (ret < 0)
		return ret;
	if (fz.n != r->nth) {
		crest_thaw(r->ctx, &fz, NULL);
		return crest_err(err, EIO, "restoring %s: pid %d has %zu threads, the image %zu", r->img->path, r->pid,
				 fz.n, r->nth);
	}
	/* The leader closes the pipes and unmaps the restorer region, using a
	 * syscall instruction of the (now restored) vDSO. */
	uint64_t vs, ve;
	image_vdso(r, &vs, &ve);
	if (r->vdso_proxy) { /* the trampolines hold no syscall: use the moved real one */
		vs = r->new_vdso;
		ve = r->new_vdso + r->new_vdso_len;
	}
	ssize_t li = crest_freeze_find(&fz, r->pid);
	ret = crest_infect_find_syscall(&fz, NULL, 0, vs, ve, err);
	if (ret < 0) {
		crest_freeze_kill(r->ctx, &fz);
		return ret;
	}
	uint64_t args[6] = {0};
	int64_t res = 0;
	int calls[2] = {r->args->status_fd, r->args->go_fd};
	for (int k = 0; k < 2 && ret >= 0; k++) {
		args[0] = (uint64_t)calls[k];
		ret = crest_infect_syscall(r->ctx, &fz, (size_t)li, SYS_close, args, &res, err);
	}
	if (ret >= 0) {
		args[0] = r->region_start;
		args[1] = r->region_len;
		ret = crest_infect_syscall(r->ctx, &fz, (size_t)li, SYS_munmap, args, &res, err);
		if (ret >= 0 && res < 0)
			ret = crest_err(err, (int)-res, "restoring %s: unmapping the restorer: %s", r->img->path,
					strerror((int)-res));
	}
	for (size_t i = 0; ret >= 0 && i < r->nth; i++) {
		ssize_t k = -1;
		for (size_t j = 0; j < fz.n && k < 0; j++)
			if ((r->pidns ? inner_tid(r->pid, fz.t[j].tid) : fz.t[j].tid) == r->th[i].tid)
				k = (ssize_t)j;
		if (k < 0) {
			ret = crest_err(err, EIO, "restoring %s: thread %d is missing", r->img->path, r->th[i].tid);
			break;
		}
		pid_t tid = fz.t[k].tid;
		struct user_regs_struct g = r->th[i].regs;
		final_regs(&g, &r->th[i].th);
		struct iovec iov = {(void *)r->th[i].xstate, r->th[i].xstate_len};
		if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
			ret = crest_err_sys(err, errno, "restoring %s: setting the XSAVE state of thread %d", r->img->path, tid);
		else if (ptrace(PTRACE_SETREGS, tid, 0, &g) < 0)
			ret = crest_err_sys(err, errno, "restoring %s: setting the registers of thread %d", r->img->path, tid);
		else if (ptrace(PTRACE_SETSIGMASK, tid, (void *)8, &r->th[i].th.sigmask) < 0)
			ret = crest_err_sys(err, errno, "restoring %s: setting the signal mask of thread %d", r->img->path, tid);
		fz.t[k].dirty = false; /* these are its registers now */
	}
	fz.inf.scratch_taken = false;
	for (int k = 0; ret >= 0 && k < CREST_RLIMIT_COUNT; k++) {
		struct rlimit have; /* the restorer kept what it could not raise */
		if (prlimit(r->pid, (__rlimit_resource_t)k, NULL, &have) == 0 && have.rlim_max < r->proc.rlimits[k].max)
			log_warn(r->ctx, "pid %d: resource limit %d: hard limit %lu could not be raised (no CAP_SYS_RESOURCE); kept %lu",
				 r->pid, k, (unsigned long)r->proc.rlimits[k].max, (unsigned long)have.rlim_max);
	}
	if (ret < 0) {
		crest_freeze_kill(r->ctx, &fz);
		return ret;
	}
	return crest_thaw(r->ctx, &fz, err);
}

/* ---- the whole ---------------------------------------------------------- */

int crest_restore(crest_ctx *ctx, const struct crest_restore_opts *o, struct crest_restore_stats *stats,
		  crest_error **err)
{
	if (!ctx || !o || o->sz < offsetof(struct crest_restore_opts, stdio) + sizeof(o->stdio) || !o->dir)
		return crest_err(err, EINVAL, "crest_restore: options missing or crest_restore_opts.sz too small");
	uint64_t t0 = crest_now_ns();
	struct rst R = {.ctx = ctx, .o = o, .status_r = -1, .go_w = -1};
	struct rst *r = &R;
	int status_p[2] = {-1, -1}, go_p[2] = {-1, -1};
	struct abuf ab = {0};
	uint64_t mem_ns = 0;
	int ret = crest_image_open(ctx, o->dir, &r->img, err);
	if (ret < 0)
		return ret;
	if ((ret = crest_image_check(r->img, err)) < 0 || (ret = read_image(r, err)) < 0)
		goto out;
	if ((ret = vdso_differs(r, err)) < 0)
		goto out;
	r->vdso_proxy = ret == 1 || (o->flags & CREST_RESTORE_ROUTE_VDSO);
	if (r->vdso_proxy)
		log_info(ctx, "restoring %s: routing the process's vDSO calls to this kernel's vDSO", r->img->path);
	if (strcmp(r->root, "/")) {
		ret = crest_err(err, ENOTSUP, "restoring %s: the process ran chrooted in %s, which crest does not restore yet",
				r->img->path, r->root);
		goto out;
	}
	r->pidns = o->flags & CREST_RESTORE_PIDNS;
	for (size_t i = 0; i < r->nth && !r->pidns; i++) {
		if (kill(r->th[i].tid, 0) == 0 || errno != ESRCH) {
			char comm[64] = "?", path[64];
			cleanup_free char *c = NULL;
			snprintf(path, sizeof(path), "/proc/%d/comm", r->th[i].tid);
			if (crest_read_file(path, &c) > 0)
				snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(c, "\n"), c);
			ret = crest_err(err, EEXIST,
					"cannot restore %s: pid %d is in use by another process (%s); stop it, or restore into a new PID namespace (--pidns)",
					r->img->path, r->th[i].tid, comm);
			goto out;
		}
	}

	int max_target;
	if ((ret = plan_fds(r, &max_target, err)) < 0)
		goto out;
	if (pipe2(status_p, O_CLOEXEC) < 0 || pipe2(go_p, O_CLOEXEC) < 0) {
		ret = crest_err_sys(err, errno, "restoring %s: creating pipes", r->img->path);
		goto out;
	}
	r->status_r = status_p[0];
	r->go_w = go_p[1];

	/* region: blob | args | stacks | scratch for the vDSO */
	uint64_t blob_len = ALIGN_UP((uint64_t)crest_restorer_blob_len, 4096);
	uint64_t spec = 0, spec_lo = ~0ull, spec_hi = 0;
	for (uint32_t i = 0; i < r->vmas.count; i++) {
		struct crest_vma_entry e = vma_at(r, i);
		if (e.kind == CREST_VMA_VVAR || e.kind == CREST_VMA_VVAR_VCLOCK || e.kind == CREST_VMA_VDSO) {
			spec_lo = e.start < spec_lo ? e.start : spec_lo;
			spec_hi = e.end > spec_hi ? e.end : spec_hi;
		}
	}
	if (spec_hi > spec_lo)
		spec = spec_hi - spec_lo;
	/* this kernel's specials must fit in the scratch area too */
	struct rst_move own[3];
	uint32_t own_kinds[3], nown = 0;
	if ((ret = own_specials(own, own_kinds, &nown, r->img->path, err)) < 0)
		goto out;
	uint64_t own_lo = ~0ull, own_hi = 0;
	for (uint32_t k = 0; k < nown; k++) {
		own_lo = own[k].from < own_lo ? own[k].from : own_lo;
		own_hi = own[k].from + own[k].len > own_hi ? own[k].from + own[k].len : own_hi;
	}
	if (own_hi > own_lo && own_hi - own_lo > spec)
		spec = own_hi - own_lo;
	/* args are built once to learn their size, with the region address
	 * left at 0 (and a stand-in place for the moved vDSO), then again for
	 * real */
	r->spec_base = r->vdso_proxy ? 1ull << 40 : 0;
	ret = build_args(r, max_target + 1, status_p[1], go_p[0], blob_len, 0, 0, &ab, err);
	if (ret < 0)
		goto out;
	uint64_t args_len = ALIGN_UP(ab.len, 4096);
	r->region_len = blob_len + args_len + r->nth * RST_STACK_SIZE + ALIGN_UP(spec, 4096) + 4096;
	ret = find_region(r, r->region_len, 0, 0, &r->region_start, err);
	if (ret < 0)
		goto out;
	if (r->vdso_proxy) {
		ret = find_region(r, ALIGN_UP(spec, 4096), r->region_start, r->region_start + r->region_len, &r->spec_base, err);
		if (ret < 0)
			goto out;
	}
	for (size_t i = 0; i < r->nfp; i++)
		close(r->fp[i].src);
	r->nfp = 0;
	free(ab.b);
	ab = (struct abuf){0};
	if ((ret = plan_fds(r, &max_target, err)) < 0)
		goto out;
	uint64_t stacks = r->region_start + blob_len + args_len;
	uint64_t scratch = stacks + r->nth * RST_STACK_SIZE;
	ret = build_args(r, max_target + 1, status_p[1], go_p[0], blob_len, stacks, scratch, &ab, err);
	if (ret < 0)
		goto out;
	void *m = mmap((void *)(uintptr_t)r->region_start, r->region_len, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED || (uint64_t)(uintptr_t)m != r->region_start) {
		ret = crest_err_sys(err, m == MAP_FAILED ? errno : EEXIST, "restoring %s: mapping the restorer region at %#lx",
				    r->img->path, (unsigned long)r->region_start);
		goto out;
	}
	r->region = m;
	memcpy(r->region, crest_restorer_blob, crest_restorer_blob_len);
	r->args = (struct rst_args *)(void *)(r->region + blob_len);
	memcpy(r->args, ab.b, ab.len);

	pid_t want = r->th[0].tid;
	struct clone_args ca = {.exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)&want, .set_tid_size = 1};
	if (r->pidns) {
		if (want == 1) {
			ret = crest_err(err, ENOTSUP, "cannot restore %s into a new PID namespace: it was pid 1 there too",
					r->img->path);
			goto out;
		}
		ca = (struct clone_args){.flags = CLONE_NEWPID, .exit_signal = SIGCHLD};
	}
	log_debug(ctx, "restore %s: checked and prepared in %.1f ms", r->img->path, (double)(crest_now_ns() - t0) / 1e6);
	long c = syscall(SYS_clone3, &ca, sizeof(ca));
	if (c < 0) {
		ret = errno == EEXIST ? crest_err(err, EEXIST,
						  "cannot restore %s: pid %d was taken meanwhile; restore into a new PID namespace (--pidns)",
						  r->img->path, want)
				      : crest_err_sys(err, errno, "restoring %s: clone3 with pid %d", r->img->path, want);
		goto out;
	}
	if (c == 0) {
		if (r->pidns)
			init_main(r, status_p[1]);
		child_main(r, status_p[1]);
	}
	r->child = r->pid = (pid_t)c;
	/* Only the child needs these; holding them would hide its death. */
	for (size_t i = 0; i < r->nfp; i++)
		close(r->fp[i].src);
	r->nfp = 0;
	close(status_p[1]);
	status_p[1] = -1;
	close(go_p[0]);
	go_p[0] = -1;

	struct rst_msg msg;
	if ((ret = expect_msg(r, &msg, err)) < 0)
		goto out;
	if (msg.kind != RST_MSG_MAPPED) {
		ret = crest_err(err, EPROTO, "restoring %s: unexpected message %u from the restorer", r->img->path, msg.kind);
		goto out;
	}
	if (r->pidns && !(r->pid = find_outer_pid(r->child))) {
		ret = crest_err(err, ESRCH, "restoring %s: cannot find the restored process under its namespace's init (pid %d)",
				r->img->path, r->child);
		goto out;
	}
	uint64_t tm = crest_now_ns();
	log_debug(ctx, "restore %s: mappings in place after %.1f ms", r->img->path, (double)(tm - t0) / 1e6);
	if ((ret = fill_memory(r, err)) < 0 || (r->vdso_proxy && (ret = write_vdso_proxy(r, err)) < 0))
		goto out;
	mem_ns = crest_now_ns() - tm;
	log_debug(ctx, "restore %s: memory written in %.1f ms", r->img->path, (double)mem_ns / 1e6);
	if (write(r->go_w, "g", 1) != 1) {
		ret = crest_err_sys(err, errno, "restoring %s: waking the restorer", r->img->path);
		goto out;
	}
	for (size_t i = 0; i < r->nth; i++) {
		if ((ret = expect_msg(r, &msg, err)) < 0)
			goto out;
	}
	log_debug(ctx, "restore %s: threads ready after %.1f ms", r->img->path, (double)(crest_now_ns() - t0) / 1e6);
	ret = finish(r, err);
	if (ret < 0)
		goto out;
	if (stats && stats->sz >= sizeof(*stats)) {
		size_t sz = stats->sz;
		memset(stats, 0, sizeof(*stats));
		stats->sz = sz;
		stats->pid = r->pid;
		stats->child = r->child;
		stats->total_ns = crest_now_ns() - t0;
		stats->memory_ns = mem_ns;
		for (size_t i = 1; i < r->img->phnum; i++)
			stats->bytes_pages += r->img->ph[i].p_filesz;
		stats->threads = (uint32_t)r->nth;
		stats->mappings = r->vmas.count;
	}
	log_info(ctx, "restored pid %d from %s", r->pid, r->img->path);
	r->child = r->pid = 0; /* it is running: not ours to kill any more */
out:
	if (r->child > 0) {
		/* Nothing half-restored stays alive (killing the namespace's
		 * init ends everything in it). */
		kill(r->child, SIGKILL);
		waitpid(r->child, NULL, __WALL);
	}
	for (int i = 0; i < 2; i++) {
		if (status_p[i] >= 0)
			close(status_p[i]);
		if (go_p[i] >= 0)
			close(go_p[i]);
	}
	for (size_t i = 0; i < r->nfp; i++)
		close(r->fp[i].src);
	free(r->fp);
	if (r->region)
		munmap(r->region, r->region_len);
	free(ab.b);
	free(r->th);
	crest_image_close(r->img);
	return ret;
}
