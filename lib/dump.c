/*
 * dump.c - crest_dump(): freeze a process and write its image.
 *
 * Order (docs/architecture.md): check the PID -> open the output (an
 * unnamed O_TMPFILE in the image directory) -> freeze -> read thread and
 * process state -> run the in-target queries -> list and scan mappings ->
 * build the notes -> lay out and allocate the file -> copy pages -> resume
 * (--leave-running) -> write headers and checksums -> fsync -> give the
 * file its name -> kill (default).  Until the name is given, every failure
 * resumes the target and leaves nothing in the directory.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include "image.h"
#include "mem.h"
#include "state.h"

#define PF_KTHREAD 0x00200000

/* Refuse targets that cannot or must not be dumped, with a reason. */
static int check_target(pid_t pid, crest_error **err)
{
	if (pid <= 0)
		return crest_err(err, EINVAL, "invalid pid %d: give the PID of a running process", pid);
	if (pid == getpid())
		return crest_err(err, EINVAL, "pid %d is crest itself; crest cannot freeze the process that runs it", pid);
	struct crest_proc_stat st;
	crest_error *e = NULL;
	int ret = crest_proc_read_stat(pid, 0, &st, &e);
	if (ret < 0) {
		int code = crest_error_code(e);
		crest_error_free(e);
		if (code == ENOENT || code == ESRCH)
			return crest_err(err, ESRCH, "no process with pid %d; check the PID (ps -p %d)", pid, pid);
		return crest_err(err, code, "pid %d: cannot read /proc/%d/stat: %s", pid, pid, strerror(code));
	}
	if (st.pid != pid)
		return crest_err(err, EINVAL, "pid %d is a thread of process %d; dump the process instead", pid, st.pid);
	if (st.flags & PF_KTHREAD)
		return crest_err(err, EPERM, "pid %d (%s) is a kernel thread; only user-space processes can be dumped",
				 pid, st.comm);
	if (st.state == 'Z' || st.state == 'X')
		return crest_err(err, ESRCH,
				 "pid %d (%s) is a zombie: it has exited and only waits for its parent to reap it; there is nothing to dump",
				 pid, st.comm);
	return 0;
}

/* Open an unnamed file in `dir` for the image (named only when complete). */
static int open_output(const char *dir, int *dirfd_out, int *fd_out, bool *tmpfile, crest_error **err)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return crest_err_sys(err, errno, "cannot create image directory %s; choose another -o", dir);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return crest_err_sys(err, errno, "cannot open image directory %s", dir);
	int fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	*tmpfile = fd >= 0;
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: a temporary name that does not look like an image. */
		char name[64];
		snprintf(name, sizeof(name), ".crest.core.%d.tmp", getpid());
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		if (errno == EROFS)
			return crest_err(err, EROFS, "image directory %s is on a read-only file system; choose another -o", dir);
		return crest_err_sys(err, errno, "cannot create a file in image directory %s; check its permissions or choose another -o",
				     dir);
	}
	*fd_out = fd;
	*dirfd_out = steal_fd(dfd);
	return 0;
}

/* Give the finished file its name, atomically replacing an older image. */
static int publish(int dfd, int fd, bool tmpfile, const char *dir, crest_error **err)
{
	char tmpname[64];
	snprintf(tmpname, sizeof(tmpname), ".crest.core.%d.tmp", getpid());
	if (tmpfile) {
		char self[64];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		unlinkat(dfd, tmpname, 0);
		if (linkat(AT_FDCWD, self, dfd, tmpname, AT_SYMLINK_FOLLOW) < 0)
			return crest_err_sys(err, errno, "naming the image in %s", dir);
	}
	if (renameat(dfd, tmpname, dfd, CREST_IMAGE_FILE) < 0) {
		int e = errno;
		unlinkat(dfd, tmpname, 0);
		return crest_err_sys(err, e, "renaming the image to %s/%s", dir, CREST_IMAGE_FILE);
	}
	if (fsync(dfd) < 0)
		return crest_err_sys(err, errno, "fsync of image directory %s", dir);
	return 0;
}

static void add_prstatus(struct crest_notes *nb, const struct crest_thread_rec *t, const struct crest_proc_rec *pr)
{
	struct elf_prstatus ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_info.si_signo = t->th.tid == pr->p.pid ? SIGSTOP : 0;
	ps.pr_cursig = (short)ps.pr_info.si_signo;
	ps.pr_sighold = t->th.sigmask;
	ps.pr_pid = (pid_t)t->tid;
	ps.pr_ppid = (pid_t)pr->p.ppid;
	ps.pr_pgrp = (pid_t)pr->p.pgid;
	ps.pr_sid = (pid_t)pr->p.sid;
	_Static_assert(sizeof(ps.pr_reg) == sizeof(t->regs), "elf_gregset_t is user_regs_struct");
	memcpy(&ps.pr_reg, &t->regs, sizeof(t->regs));
	ps.pr_fpvalid = 1;
	crest_notes_add(nb, "CORE", NT_PRSTATUS, &ps, sizeof(ps));
}

static void add_prpsinfo(struct crest_notes *nb, const struct crest_proc_rec *pr)
{
	struct elf_prpsinfo pi;
	memset(&pi, 0, sizeof(pi));
	static const char states[] = "RSDTZW";
	const char *s = strchr(states, pr->stat.state);
	pi.pr_state = (char)(s ? s - states : 0);
	pi.pr_sname = pr->stat.state;
	pi.pr_zomb = pr->stat.state == 'Z';
	pi.pr_flag = pr->stat.flags;
	pi.pr_uid = pr->p.uid[0];
	pi.pr_gid = pr->p.gid[0];
	pi.pr_pid = (int)pr->p.pid;
	pi.pr_ppid = (int)pr->p.ppid;
	pi.pr_pgrp = (int)pr->p.pgid;
	pi.pr_sid = (int)pr->p.sid;
	/* fixed-size fields: truncate, NUL-terminate only if room (as the kernel does) */
	size_t l = strnlen(pr->comm, sizeof(pi.pr_fname) - 1);
	memcpy(pi.pr_fname, pr->comm, l);
	l = strnlen(pr->psargs, sizeof(pi.pr_psargs) - 1);
	memcpy(pi.pr_psargs, pr->psargs, l);
	crest_notes_add(nb, "CORE", NT_PRPSINFO, &pi, sizeof(pi));
}

/* NT_FILE: count, page size, {start, end, offset in pages}..., names. */
static void add_nt_file(struct crest_notes *nb, const struct crest_proc_vmas *vmas, long psz)
{
	size_t count = 0, names = 0;
	for (size_t i = 0; i < vmas->n; i++)
		if (vmas->v[i].path && vmas->v[i].path[0] == '/') {
			count++;
			names += strlen(vmas->v[i].path) + 1;
		}
	size_t len = 16 + count * 24 + names;
	cleanup_free uint64_t *d = calloc(1, ALIGN_UP(len, 8));
	if (!d) {
		nb->err = -ENOMEM;
		return;
	}
	d[0] = count;
	d[1] = (uint64_t)psz;
	char *str = (char *)(d + 2 + 3 * count);
	size_t k = 0;
	for (size_t i = 0; i < vmas->n; i++) {
		const struct crest_proc_vma *v = &vmas->v[i];
		if (!v->path || v->path[0] != '/')
			continue;
		d[2 + 3 * k] = v->start;
		d[3 + 3 * k] = v->end;
		d[4 + 3 * k] = v->pgoff / (uint64_t)psz;
		size_t l = strlen(v->path) + 1;
		memcpy(str, v->path, l);
		str += l;
		k++;
	}
	crest_notes_add(nb, "CORE", NT_FILE, d, len);
}

static uint64_t xcr0_of(const struct crest_thread_rec *t)
{
	uint64_t x = 0;
	if (t->xstate_len >= 480)
		memcpy(&x, t->xstate + 464, 8); /* ptrace/core layout: XCR0 in sw_reserved[0] */
	return x;
}

struct dump_state {
	crest_ctx *ctx;
	const struct crest_dump_opts *o;
	struct crest_freezer fz;
	struct crest_thread_rec *th;
	size_t nthreads;                /* the freezer forgets its threads when it lets go */
	struct crest_proc_rec pr;
	struct crest_proc_vmas vmas;
	struct crest_vma_entry *ents;
	struct crest_mem_plan plan;
	struct crest_notes nb;
};

static void build_notes(struct dump_state *ds, uint64_t frozen_at_real, uint64_t frozen_ns)
{
	struct crest_notes *nb = &ds->nb;
	struct crest_proc_rec *pr = &ds->pr;
	struct crest_table t;
	struct utsname un;
	uname(&un);

	crest_table_init(&t, sizeof(struct crest_meta));
	struct crest_meta *m = crest_table_add(&t);
	m->image_version = CREST_IMAGE_VERSION;
	m->page_size = (uint32_t)ds->ctx->page_size;
	m->created_ns = frozen_at_real;
	m->pid = ds->pr.p.pid;
	m->nthreads = (uint32_t)ds->nthreads;
	m->xcr0 = xcr0_of(&ds->th[0]);
	m->xsave_size = (uint32_t)ds->th[0].xstate_len;
	m->frozen_ns = frozen_ns;
	m->flags = ((ds->o->flags & CREST_DUMP_LEAVE_RUNNING) ? CREST_META_LEFT_RUNNING : 0) |
		   (pr->fds_skipped ? CREST_META_SKIPPED_FDS : 0);
	m->crest_version = crest_table_str(&t, CREST_VERSION_STRING);
	m->hostname = crest_table_str(&t, un.nodename);
	m->kernel_release = crest_table_str(&t, un.release);
	crest_notes_add_table(nb, CREST_NT_META, &t);

	crest_table_init(&t, sizeof(struct crest_process));
	struct crest_process *p = crest_table_add(&t);
	*p = pr->p;
	p->exe = crest_table_str(&t, pr->exe);
	p->cwd = crest_table_str(&t, pr->cwd);
	p->root = crest_table_str(&t, pr->root);
	p->comm = crest_table_str(&t, pr->comm);
	crest_notes_add_table(nb, CREST_NT_PROCESS, &t);

	crest_table_init(&t, sizeof(uint32_t));
	for (size_t i = 0; i < pr->status.ngroups; i++)
		*(uint32_t *)crest_table_add(&t) = pr->status.groups[i];
	crest_notes_add_table(nb, CREST_NT_GROUPS, &t);

	crest_table_init(&t, sizeof(struct crest_sigaction));
	for (int i = 0; i < 64; i++)
		*(struct crest_sigaction *)crest_table_add(&t) = pr->act[i];
	crest_notes_add_table(nb, CREST_NT_SIGACTIONS, &t);

	crest_table_init(&t, sizeof(struct crest_siginfo));
	for (size_t i = 0; i < pr->nshq; i++)
		*(struct crest_siginfo *)crest_table_add(&t) = pr->shq[i];
	crest_notes_add_table(nb, CREST_NT_SHARED_SIGQUEUE, &t);

	crest_table_init(&t, sizeof(struct crest_vma_entry));
	for (size_t i = 0; i < ds->vmas.n; i++) {
		struct crest_vma_entry *e = crest_table_add(&t);
		*e = ds->ents[i];
		e->path = crest_table_str(&t, ds->vmas.v[i].path);
	}
	crest_notes_add_table(nb, CREST_NT_VMAS, &t);

	crest_table_init(&t, sizeof(struct crest_fd_entry));
	for (size_t i = 0; i < pr->nfds; i++) {
		struct crest_fd_entry *e = crest_table_add(&t);
		*e = pr->fds[i].e;
		e->path = crest_table_str(&t, pr->fds[i].path);
	}
	crest_notes_add_table(nb, CREST_NT_FDS, &t);

	/* Threads, leader first (gdb takes the first NT_PRSTATUS as the
	 * current thread), each NT_PRSTATUS followed by its own notes. */
	size_t li = 0;
	for (size_t i = 0; i < ds->nthreads; i++)
		if (ds->th[i].tid == (pid_t)ds->pr.p.pid)
			li = i;
	for (size_t k = 0; k < ds->nthreads; k++) {
		size_t i = k == 0 ? li : (k <= li ? k - 1 : k);
		const struct crest_thread_rec *tr = &ds->th[i];
		add_prstatus(nb, tr, pr);
		if (k == 0) {
			add_prpsinfo(nb, pr);
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			si.si_signo = SIGSTOP;
			si.si_code = SI_USER;
			crest_notes_add(nb, "CORE", NT_SIGINFO, &si, sizeof(si));
			crest_notes_add(nb, "CORE", NT_AUXV, pr->auxv, pr->auxv_len);
			add_nt_file(nb, &ds->vmas, ds->ctx->page_size);
		}
		crest_notes_add(nb, "CORE", NT_FPREGSET, &tr->fpregs, sizeof(tr->fpregs));
		crest_notes_add(nb, "LINUX", NT_X86_XSTATE, tr->xstate, tr->xstate_len);
		crest_table_init(&t, sizeof(struct crest_thread));
		struct crest_thread *c = crest_table_add(&t);
		*c = tr->th;
		c->comm = crest_table_str(&t, tr->comm);
		crest_notes_add_table(nb, CREST_NT_THREAD, &t);
		if (tr->nsigq) {
			crest_table_init(&t, sizeof(struct crest_siginfo));
			for (size_t q = 0; q < tr->nsigq; q++)
				*(struct crest_siginfo *)crest_table_add(&t) = tr->sigq[q];
			crest_notes_add_table(nb, CREST_NT_SIGQUEUE, &t);
		}
	}
}

/* Ranges for crest_infect_prepare(): executable, and private writable
 * (the stack first). */
static int infect_prepare(struct dump_state *ds, crest_error **err)
{
	size_t n = ds->vmas.n;
	cleanup_free uint64_t *ex = calloc(2 * n + 2, sizeof(uint64_t));
	cleanup_free uint64_t *wr = calloc(2 * n + 2, sizeof(uint64_t));
	if (!ex || !wr)
		return crest_err(err, ENOMEM, "out of memory");
	size_t nex = 0, nwr = 0;
	uint64_t vs = 0, ve = 0;
	for (size_t i = 0; i < n; i++) {
		const struct crest_proc_vma *v = &ds->vmas.v[i];
		const struct crest_vma_entry *e = &ds->ents[i];
		if (e->kind == CREST_VMA_VDSO) {
			vs = v->start;
			ve = v->end;
		} else if ((v->prot & 4) && (v->prot & 1) && e->kind != CREST_VMA_VSYSCALL) {
			ex[2 * nex] = v->start;
			ex[2 * nex++ + 1] = v->end;
		}
		if ((v->prot & 3) == 3 && !v->shared && !(v->vmflags & (CREST_VMF_IO | CREST_VMF_PF))) {
			wr[2 * nwr] = v->start;
			wr[2 * nwr++ + 1] = v->end;
		}
	}
	return crest_infect_prepare(ds->ctx, &ds->fz, ex, nex, vs, ve, wr, nwr, err);
}

int crest_dump(crest_ctx *ctx, const struct crest_dump_opts *o, struct crest_dump_stats *stats, crest_error **err)
{
	if (!ctx || !o || o->sz < offsetof(struct crest_dump_opts, cancel) + sizeof(o->cancel))
		return crest_err(err, EINVAL, "crest_dump: options missing or crest_dump_opts.sz too small");
	if (!o->dir || !*o->dir)
		return crest_err(err, EINVAL, "crest_dump: no image directory given");
	uint64_t t0 = crest_now_ns();
	pid_t pid = o->pid;
	int ret = check_target(pid, err);
	if (ret < 0)
		return ret;

	struct dump_state ds = {.ctx = ctx, .o = o};
	ds.fz.mem_fd = -1;
	cleanup_close int dfd = -1;
	cleanup_close int fd = -1;
	bool tmpfile = false, frozen = false, named = false;
	uint64_t frozen_ns = 0, mem_ns = 0;
	struct crest_layout lay = {0};
	ret = open_output(o->dir, &dfd, &fd, &tmpfile, err);
	if (ret < 0) {
		ret = crest_err_wrap(err, ret, "cannot dump pid %d", pid);
		goto out;
	}

	struct timespec real;
	clock_gettime(CLOCK_REALTIME, &real);
	ret = crest_freeze(ctx, pid, &ds.fz, err);
	if (ret < 0)
		goto out;
	frozen = true;
#define STEP(expr)                                  \
	do {                                        \
		ret = (expr);                       \
		if (ret < 0)                        \
			goto out;                   \
		if (o->cancel && *o->cancel) {      \
			ret = crest_err(err, ECANCELED, "dump of pid %d cancelled", pid); \
			goto out;                   \
		}                                   \
	} while (0)
	ds.nthreads = ds.fz.n;
	STEP(crest_collect_threads(ctx, &ds.fz, &ds.th, err));
	STEP(crest_collect_process(ctx, pid, &ds.pr, err));
	STEP(crest_proc_read_vmas(pid, &ds.vmas, err));
	ds.ents = calloc(ds.vmas.n ? ds.vmas.n : 1, sizeof(*ds.ents));
	if (!ds.ents) {
		ret = crest_err(err, ENOMEM, "out of memory");
		goto out;
	}
	STEP(crest_mem_classify(ctx, pid, &ds.vmas, ds.ents, err));
	STEP(infect_prepare(&ds, err));
	STEP(crest_collect_in_target(ctx, &ds.fz, ds.th, &ds.pr, err));
	STEP(crest_infect_finish(&ds.fz, err));
	STEP(crest_collect_fds(ctx, pid, o->flags, &ds.pr, err));
	STEP(crest_mem_scan(ctx, pid, &ds.vmas, ds.ents, &ds.plan, err));

	/* A clear error before copying a byte if the image cannot fit; a
	 * write that still fails with ENOSPC is reported the same way. */
	uint64_t need = (uint64_t)ctx->page_size + ds.plan.total + ds.plan.n * 64 + (1u << 20);
	struct statvfs vfs;
	if (fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < need) {
		ret = crest_err(err, ENOSPC,
				"no space left in %s for the image of pid %d (%.1f MiB needed, %.1f MiB free): free some space or choose another -o",
				o->dir, pid, (double)need / (1 << 20), (double)vfs.f_bavail * vfs.f_frsize / (1 << 20));
		goto out;
	}
	uint64_t tm = crest_now_ns();
	ret = crest_mem_copy(ctx, &ds.fz, fd, &ds.plan, ds.ents, ds.vmas.n, o->cancel, err);
	if (ret == -ENOSPC || ret == -EDQUOT)
		ret = crest_err_wrap(err, ret, "no space left in %s for the image of pid %d: free some space or choose another -o", o->dir, pid);
	if (ret < 0)
		goto out;
	mem_ns = crest_now_ns() - tm;

	if (o->flags & CREST_DUMP_LEAVE_RUNNING) {
		frozen = false;
		ret = crest_thaw(ctx, &ds.fz, err);
		frozen_ns = crest_now_ns() - ds.fz.frozen_at_ns;
		if (ret < 0)
			goto out;
	}
	/* The notes describe what was stored, so they come after the copy. */
	build_notes(&ds, (uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec,
		    frozen ? crest_now_ns() - ds.fz.frozen_at_ns : frozen_ns);
	crest_image_layout(&lay, &ds.nb, &ds.plan, ctx->page_size);
	ret = crest_image_write_head(fd, &lay, &ds.nb, &ds.plan, ctx->page_size, err);
	if (ret < 0)
		goto out;
	if (ftruncate(fd, (off_t)lay.file_size) < 0) {
		ret = crest_err_sys(err, errno, "sizing the image file in %s", o->dir);
		goto out;
	}
	if (fsync(fd) < 0) {
		ret = crest_err_sys(err, errno, "fsync of the image in %s", o->dir);
		goto out;
	}
	ret = publish(dfd, fd, tmpfile, o->dir, err);
	if (ret < 0)
		goto out;
	named = true;
	if (frozen) {
		/* The image is durable: now the original may go. */
		frozen_ns = crest_now_ns() - ds.fz.frozen_at_ns;
		crest_freeze_kill(ctx, &ds.fz);
		frozen = false;
	}
	log_info(ctx, "dumped pid %d to %s/%s", pid, o->dir, CREST_IMAGE_FILE);
out:
	if (frozen) {
		crest_error *e2 = NULL;
		if (crest_thaw(ctx, &ds.fz, &e2) < 0)
			log_err(ctx, "pid %d: %s", pid, crest_error_message(e2));
		crest_error_free(e2);
	}
	if (ret < 0 && fd >= 0 && !tmpfile && !named) {
		char name[64];
		snprintf(name, sizeof(name), ".crest.core.%d.tmp", getpid());
		unlinkat(dfd, name, 0);
	}
	if (ret == 0 && stats && stats->sz >= sizeof(*stats)) {
		size_t sz = stats->sz;
		memset(stats, 0, sizeof(*stats));
		stats->sz = sz;
		stats->frozen_ns = frozen_ns;
		stats->total_ns = crest_now_ns() - t0;
		stats->memory_ns = mem_ns;
		stats->bytes_written = lay.file_size;
		stats->bytes_pages = ds.plan.total;
		for (size_t i = 0; i < ds.vmas.n; i++)
			stats->bytes_mapped += ds.vmas.v[i].end - ds.vmas.v[i].start;
		stats->threads = (uint32_t)ds.nthreads;
		stats->mappings = (uint32_t)ds.vmas.n;
		stats->fds = (uint32_t)ds.pr.nfds;
		stats->fds_skipped = (uint32_t)ds.pr.fds_skipped;
	}
	crest_notes_free(&ds.nb);
	crest_mem_plan_free(&ds.plan);
	free(ds.ents);
	crest_proc_vmas_free(&ds.vmas);
	crest_thread_recs_free(ds.th, ds.nthreads);
	crest_proc_rec_free(&ds.pr);
	return ret;
}
