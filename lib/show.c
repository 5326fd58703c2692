/*
 * show.c - crest_image_describe(): what an image holds, as JSON (json-c)
 * or as text rendered from the same JSON document.
 */
#include <elf.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/procfs.h>
#include <sys/user.h>

#include "image.h"

static json_object *hex(uint64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%#lx", (unsigned long)v);
	return json_object_new_string(b);
}

static json_object *u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

static const char *kind_name(uint32_t k)
{
	static const char *const n[] = {"anon", "file", "shmem", "heap", "stack", "vdso", "vvar", "vvar_vclock", "vsyscall", "special"};
	return k < ARRAY_SIZE(n) ? n[k] : "unknown";
}

static const char *fd_kind_name(uint32_t k)
{
	static const char *const n[] = {"file", "directory", "chardev", "blockdev", "pipe", "socket", "eventfd",
					"epoll", "timerfd", "signalfd", "inotify", "fanotify", "pidfd", "userfaultfd",
					"io_uring", "memfd", "anon_inode", "unknown"};
	return k < ARRAY_SIZE(n) ? n[k] : "unknown";
}

static const char *restart_name(uint32_t r)
{
	static const char *const n[] = {"none", "restart", "eintr", "done"};
	return r < ARRAY_SIZE(n) ? n[r] : "unknown";
}

static json_object *vmflags_str(uint64_t f)
{
	static const char codes[] = CREST_VMF_CODES;
	char out[sizeof(codes)] = "";
	size_t o = 0;
	for (size_t i = 0; i * 3 + 1 < sizeof(codes); i++) {
		if (!(f & (1ull << i)))
			continue;
		if (o)
			out[o++] = ' ';
		out[o++] = codes[i * 3];
		out[o++] = codes[i * 3 + 1];
	}
	out[o] = '\0';
	return json_object_new_string(out);
}

static json_object *signo_list(const uint8_t *ents, uint32_t entsize, uint32_t count)
{
	json_object *a = json_object_new_array();
	for (uint32_t i = 0; i < count; i++) {
		int32_t signo;
		memcpy(&signo, ents + (size_t)i * entsize, 4);
		json_object_array_add(a, json_object_new_int(signo));
	}
	return a;
}

static int describe_threads(crest_image *img, json_object *root, crest_error **err)
{
	json_object *threads = json_object_new_array();
	ADD(root, "threads", threads);
	json_object *cur = NULL;
	for (size_t i = 0; i < img->nnotes; i++) {
		const struct crest_note_ref *n = &img->notes[i];
		if (!strcmp(n->owner, "CORE") && n->type == NT_PRSTATUS) {
			struct elf_prstatus ps;
			if (n->len < sizeof(ps))
				return crest_err(err, EBADMSG, "image %s: NT_PRSTATUS too short", img->path);
			memcpy(&ps, n->desc, sizeof(ps));
			struct user_regs_struct r;
			memcpy(&r, &ps.pr_reg, sizeof(r));
			cur = json_object_new_object();
			json_object_array_add(threads, cur);
			ADD(cur, "tid", json_object_new_int(ps.pr_pid));
			ADD(cur, "rip", hex(r.rip));
			ADD(cur, "rsp", hex(r.rsp));
			ADD(cur, "rbp", hex(r.rbp));
			ADD(cur, "rax", hex(r.rax));
			ADD(cur, "orig_rax", json_object_new_int64((int64_t)r.orig_rax));
			ADD(cur, "fs_base", hex(r.fs_base));
			ADD(cur, "gs_base", hex(r.gs_base));
			ADD(cur, "eflags", hex(r.eflags));
		} else if (cur && !strcmp(n->owner, "LINUX") && n->type == NT_X86_XSTATE) {
			ADD(cur, "xsave_size", json_object_new_int((int)n->len));
			uint64_t xf = 0;
			if (n->len >= 520)
				memcpy(&xf, n->desc + 512, 8); /* XSAVE header: xstate_bv */
			ADD(cur, "xstate_bv", hex(xf));
		} else if (cur && !strcmp(n->owner, CREST_NOTE_OWNER) && n->type == CREST_NT_THREAD) {
			struct crest_table_view tv;
			int ret = crest_table_view(n, sizeof(struct crest_thread), &tv, err);
			if (ret < 0)
				return ret;
			if (tv.count < 1)
				continue;
			struct crest_thread t;
			memcpy(&t, tv.ents, sizeof(t));
			ADD(cur, "comm", json_object_new_string(crest_table_string(&tv, t.comm)));
			char st[2] = {(char)t.state, 0};
			ADD(cur, "state", json_object_new_string(st));
			ADD(cur, "leader", json_object_new_boolean(t.flags & CREST_THREAD_LEADER));
			ADD(cur, "in_syscall", json_object_new_boolean(t.syscall_nr >= 0));
			ADD(cur, "syscall_nr", json_object_new_int64(t.syscall_nr));
			ADD(cur, "restart", json_object_new_string(restart_name(t.restart)));
			ADD(cur, "sigmask", hex(t.sigmask));
			json_object *alt = json_object_new_object();
			ADD(alt, "sp", hex(t.altstack_sp));
			ADD(alt, "size", u64(t.altstack_size));
			ADD(alt, "flags", json_object_new_int((int)t.altstack_flags));
			ADD(cur, "altstack", alt);
			json_object *rs = json_object_new_object();
			ADD(rs, "addr", hex(t.rseq_addr));
			ADD(rs, "len", json_object_new_int((int)t.rseq_len));
			ADD(rs, "sig", hex(t.rseq_sig));
			ADD(cur, "rseq", rs);
			ADD(cur, "clear_child_tid", hex(t.clear_child_tid));
			ADD(cur, "robust_list", hex(t.robust_list));
			ADD(cur, "robust_list_len", u64(t.robust_list_len));
			ADD(cur, "pending", json_object_new_array());
		} else if (cur && !strcmp(n->owner, CREST_NOTE_OWNER) && n->type == CREST_NT_SIGQUEUE) {
			struct crest_table_view tv;
			int ret = crest_table_view(n, sizeof(struct crest_siginfo), &tv, err);
			if (ret < 0)
				return ret;
			ADD(cur, "pending", signo_list(tv.ents, tv.entsize, tv.count));
		}
	}
	return 0;
}

/* A table note that must be present. */
static int need_table(crest_image *img, uint32_t type, uint32_t min, struct crest_table_view *tv, crest_error **err)
{
	const struct crest_note_ref *n = crest_image_find(img, CREST_NOTE_OWNER, type);
	if (!n)
		return crest_err(err, EBADMSG, "image %s lacks crest note %#x", img->path, type);
	return crest_table_view(n, min, tv, err);
}

static int describe(crest_image *img, json_object *root, crest_error **err)
{
	const struct crest_meta *m = &img->meta;
	struct crest_table_view mv = {.str = img->meta_str, .strsz = img->meta_strsz};
	ADD(root, "crest_version", json_object_new_string(crest_table_string(&mv, m->crest_version)));
	ADD(root, "image_version", json_object_new_int((int)m->image_version));
	ADD(root, "pid", json_object_new_int((int)m->pid));
	ADD(root, "created_ns", u64(m->created_ns));
	ADD(root, "hostname", json_object_new_string(crest_table_string(&mv, m->hostname)));
	ADD(root, "kernel", json_object_new_string(crest_table_string(&mv, m->kernel_release)));
	ADD(root, "left_running", json_object_new_boolean(m->flags & CREST_META_LEFT_RUNNING));
	ADD(root, "xcr0", hex(m->xcr0));

	struct crest_table_view tv;
	int ret = need_table(img, CREST_NT_PROCESS, sizeof(struct crest_process), &tv, err);
	if (ret < 0)
		return ret;
	if (tv.count != 1)
		return crest_err(err, EBADMSG, "image %s: process note has %u entries", img->path, tv.count);
	struct crest_process p;
	memcpy(&p, tv.ents, sizeof(p));
	json_object *po = json_object_new_object();
	ADD(root, "process", po);
	ADD(po, "comm", json_object_new_string(crest_table_string(&tv, p.comm)));
	ADD(po, "exe", json_object_new_string(crest_table_string(&tv, p.exe)));
	ADD(po, "cwd", json_object_new_string(crest_table_string(&tv, p.cwd)));
	ADD(po, "root", json_object_new_string(crest_table_string(&tv, p.root)));
	ADD(po, "ppid", json_object_new_int((int)p.ppid));
	ADD(po, "pgid", json_object_new_int((int)p.pgid));
	ADD(po, "sid", json_object_new_int((int)p.sid));
	json_object *uid = json_object_new_array(), *gid = json_object_new_array();
	for (int i = 0; i < 4; i++) {
		json_object_array_add(uid, json_object_new_int64(p.uid[i]));
		json_object_array_add(gid, json_object_new_int64(p.gid[i]));
	}
	ADD(po, "uid", uid);
	ADD(po, "gid", gid);
	ADD(po, "umask", json_object_new_int((int)p.umask));
	ADD(po, "personality", hex(p.personality));
	ADD(po, "cap_eff", hex(p.cap_eff));
	ADD(po, "brk", hex(p.brk));
	ADD(po, "start_brk", hex(p.start_brk));
	ADD(po, "start_stack", hex(p.start_stack));
	json_object *rl = json_object_new_array();
	for (int i = 0; i < CREST_RLIMIT_COUNT; i++) {
		json_object *r = json_object_new_array();
		json_object_array_add(r, u64(p.rlimits[i].cur));
		json_object_array_add(r, u64(p.rlimits[i].max));
		json_object_array_add(rl, r);
	}
	ADD(po, "rlimits", rl);

	ret = describe_threads(img, root, err);
	if (ret < 0)
		return ret;

	ret = need_table(img, CREST_NT_VMAS, sizeof(struct crest_vma_entry), &tv, err);
	if (ret < 0)
		return ret;
	json_object *maps = json_object_new_array();
	ADD(root, "mappings", maps);
	uint64_t mapped = 0, stored = 0;
	for (uint32_t i = 0; i < tv.count; i++) {
		struct crest_vma_entry e;
		memcpy(&e, tv.ents + (size_t)i * tv.entsize, sizeof(e));
		json_object *v = json_object_new_object();
		ADD(v, "start", hex(e.start));
		ADD(v, "end", hex(e.end));
		char prot[5] = {(e.prot & 1) ? 'r' : '-', (e.prot & 2) ? 'w' : '-', (e.prot & 4) ? 'x' : '-',
				(e.flags & CREST_VMA_F_SHARED) ? 's' : 'p', 0};
		ADD(v, "prot", json_object_new_string(prot));
		ADD(v, "kind", json_object_new_string(kind_name(e.kind)));
		ADD(v, "path", json_object_new_string(crest_table_string(&tv, e.path)));
		ADD(v, "offset", hex(e.pgoff));
		ADD(v, "mapped", u64(e.end - e.start));
		ADD(v, "stored", u64(e.stored));
		ADD(v, "rss", u64(e.rss));
		ADD(v, "deleted", json_object_new_boolean(e.flags & CREST_VMA_F_DELETED));
		ADD(v, "vmflags", vmflags_str(e.vmflags));
		json_object_array_add(maps, v);
		mapped += e.end - e.start;
		stored += e.stored;
	}

	ret = need_table(img, CREST_NT_FDS, sizeof(struct crest_fd_entry), &tv, err);
	if (ret < 0)
		return ret;
	json_object *fds = json_object_new_array();
	ADD(root, "fds", fds);
	for (uint32_t i = 0; i < tv.count; i++) {
		struct crest_fd_entry e;
		memcpy(&e, tv.ents + (size_t)i * tv.entsize, sizeof(e));
		json_object *f = json_object_new_object();
		ADD(f, "fd", json_object_new_int(e.fd));
		ADD(f, "kind", json_object_new_string(fd_kind_name(e.kind)));
		ADD(f, "path", json_object_new_string(crest_table_string(&tv, e.path)));
		ADD(f, "pos", u64(e.pos));
		ADD(f, "flags", hex(e.open_flags));
		ADD(f, "cloexec", json_object_new_boolean(e.flags & CREST_FD_F_CLOEXEC));
		ADD(f, "supported", json_object_new_boolean(!(e.flags & CREST_FD_F_UNSUPPORTED)));
		json_object_array_add(fds, f);
	}

	json_object *sig = json_object_new_object();
	ADD(root, "signals", sig);
	ret = need_table(img, CREST_NT_SHARED_SIGQUEUE, sizeof(struct crest_siginfo), &tv, err);
	if (ret < 0)
		return ret;
	ADD(sig, "shared_pending", signo_list(tv.ents, tv.entsize, tv.count));
	ret = need_table(img, CREST_NT_SIGACTIONS, sizeof(struct crest_sigaction), &tv, err);
	if (ret < 0)
		return ret;
	json_object *acts = json_object_new_array();
	ADD(sig, "actions", acts);
	for (uint32_t i = 0; i < tv.count; i++) {
		struct crest_sigaction a;
		memcpy(&a, tv.ents + (size_t)i * tv.entsize, sizeof(a));
		if (!a.handler && !a.flags && !a.mask)
			continue; /* default */
		json_object *o = json_object_new_object();
		ADD(o, "signo", json_object_new_int((int)i + 1));
		ADD(o, "handler", a.handler == 1 ? json_object_new_string("SIG_IGN") : hex(a.handler));
		ADD(o, "flags", hex(a.flags));
		ADD(o, "mask", hex(a.mask));
		json_object_array_add(acts, o);
	}

	json_object *tot = json_object_new_object();
	ADD(root, "totals", tot);
	ADD(tot, "mapped", u64(mapped));
	ADD(tot, "stored", u64(stored));
	ADD(tot, "segments", u64(img->phnum - 1));
	ADD(tot, "file_size", u64(img->size));
	return 0;
}

/* ---- text ------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
	int err;
};

__attribute__((format(printf, 2, 3))) static void sb(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = NULL;
	int n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0 || crest_grow(&b->s, &b->cap, b->len + (size_t)n + 1, 1) < 0) {
		b->err = -ENOMEM;
		free(t);
		return;
	}
	memcpy(b->s + b->len, t, (size_t)n + 1);
	b->len += (size_t)n;
	free(t);
}

static const char *js(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int64_t ji(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static json_object *jo(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static void human(char *buf, size_t len, uint64_t v)
{
	if (v >= (1ull << 30))
		snprintf(buf, len, "%.1f GiB", (double)v / (1ull << 30));
	else if (v >= (1ull << 20))
		snprintf(buf, len, "%.1f MiB", (double)v / (1ull << 20));
	else if (v >= 1024)
		snprintf(buf, len, "%.1f KiB", (double)v / 1024);
	else
		snprintf(buf, len, "%lu B", (unsigned long)v);
}

static void render_text(json_object *root, struct sbuf *b)
{
	json_object *p = jo(root, "process"), *tot = jo(root, "totals");
	char a[32], c[32], d[32];
	sb(b, "crest image v%ld (crest %s), pid %ld (%s), taken on %s (Linux %s)%s\n", (long)ji(root, "image_version"),
	   js(root, "crest_version"), (long)ji(root, "pid"), js(p, "comm"), js(root, "hostname"), js(root, "kernel"),
	   json_object_get_boolean(jo(root, "left_running")) ? ", left running" : "");
	sb(b, "exe %s\ncwd %s  root %s  umask %04lo  ppid %ld  uid %s  gid %s\n", js(p, "exe"), js(p, "cwd"),
	   js(p, "root"), (long)ji(p, "umask"), (long)ji(p, "ppid"), json_object_to_json_string(jo(p, "uid")),
	   json_object_to_json_string(jo(p, "gid")));
	human(a, sizeof(a), (uint64_t)ji(tot, "stored"));
	human(c, sizeof(c), (uint64_t)ji(tot, "mapped"));
	human(d, sizeof(d), (uint64_t)ji(tot, "file_size"));
	sb(b, "memory: %s stored of %s mapped, in %ld segments; image file %s\n", a, c, (long)ji(tot, "segments"), d);

	json_object *th = jo(root, "threads");
	sb(b, "\nthreads (%zu):\n", json_object_array_length(th));
	for (size_t i = 0; i < json_object_array_length(th); i++) {
		json_object *t = json_object_array_get_idx(th, i);
		sb(b, "  %-7ld %-15s %s rip %s rsp %s fs %s", (long)ji(t, "tid"), js(t, "comm"), js(t, "state"),
		   js(t, "rip"), js(t, "rsp"), js(t, "fs_base"));
		if (json_object_get_boolean(jo(t, "in_syscall")))
			sb(b, " in syscall %ld (%s)", (long)ji(t, "syscall_nr"), js(t, "restart"));
		sb(b, "\n          sigmask %s pending %s xsave %ld bytes (xstate_bv %s) rseq %s\n", js(t, "sigmask"),
		   json_object_to_json_string(jo(t, "pending")), (long)ji(t, "xsave_size"), js(t, "xstate_bv"),
		   js(jo(t, "rseq"), "addr"));
	}

	json_object *maps = jo(root, "mappings");
	sb(b, "\nmappings (%zu):\n", json_object_array_length(maps));
	for (size_t i = 0; i < json_object_array_length(maps); i++) {
		json_object *v = json_object_array_get_idx(maps, i);
		human(a, sizeof(a), (uint64_t)ji(v, "stored"));
		human(c, sizeof(c), (uint64_t)ji(v, "mapped"));
		sb(b, "  %18s-%-18s %s %-7s %10s / %-10s %s\n", js(v, "start"), js(v, "end"), js(v, "prot"),
		   js(v, "kind"), a, c, js(v, "path"));
	}

	json_object *fds = jo(root, "fds");
	sb(b, "\nfds (%zu):\n", json_object_array_length(fds));
	for (size_t i = 0; i < json_object_array_length(fds); i++) {
		json_object *f = json_object_array_get_idx(fds, i);
		sb(b, "  %3ld %-10s pos %-8ld flags %-8s %s%s\n", (long)ji(f, "fd"), js(f, "kind"), (long)ji(f, "pos"),
		   js(f, "flags"), js(f, "path"), json_object_get_boolean(jo(f, "supported")) ? "" : "  [unsupported]");
	}

	json_object *sig = jo(root, "signals"), *acts = jo(sig, "actions");
	sb(b, "\nsignals: shared pending %s, %zu non-default actions\n",
	   json_object_to_json_string(jo(sig, "shared_pending")), json_object_array_length(acts));
	for (size_t i = 0; i < json_object_array_length(acts); i++) {
		json_object *o = json_object_array_get_idx(acts, i);
		sb(b, "  %2ld (%s) handler %s flags %s mask %s\n", (long)ji(o, "signo"), sigabbrev_np((int)ji(o, "signo")) ?: "RT",
		   js(o, "handler"), js(o, "flags"), js(o, "mask"));
	}
}

int crest_image_describe(crest_image *img, enum crest_describe_format fmt, char **out, crest_error **err)
{
	json_object *root = json_object_new_object();
	if (!root)
		return crest_err(err, ENOMEM, "out of memory");
	int ret = describe(img, root, err);
	if (ret < 0) {
		json_object_put(root);
		return crest_err_wrap(err, ret, "describing %s", img->path);
	}
	if (fmt == CREST_DESCRIBE_JSON) {
		const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		*out = s ? strdup(s) : NULL;
	} else {
		struct sbuf b = {0};
		render_text(root, &b);
		*out = b.err ? (free(b.s), NULL) : b.s;
	}
	json_object_put(root);
	if (!*out)
		return crest_err(err, ENOMEM, "out of memory describing %s", img->path);
	return 0;
}
