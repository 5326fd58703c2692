/*
 * test_image.c - unit tests for lib/image_write.c and lib/image_read.c: an
 * image built by hand (notes, tables, a segment plan and known page
 * contents, no live process) must round-trip through crest_image_open() and
 * crest_image_describe(); damaged, truncated, foreign and newer images must
 * be refused with the right errno and a message that says what is wrong;
 * the PN_XNUM extension must work for more than 65534 segments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <xxhash.h>

#include "image.h"

#define PAGE 4096
#define TEST_PID 4242
#define TEST_TID 4243
#define TEST_COMM "imgtest-comm"
#define TEST_THREAD_COMM "imgtest-thr"
#define TEST_EXE "/usr/bin/imgtest"
#define TEST_CWD "/tmp/imgtest-cwd"
#define TEST_ROOT "/"
#define TEST_RIP 0x401234ull
#define EXTRA_VMA_PATH "/usr/lib/x86_64-linux-gnu/libimgtest.so.1"

/* Assert that err holds an error with errno `code` whose message contains
 * every given substring, then free it. */
static void check_err(crest_error **err, int code, const char *sub1, const char *sub2)
{
	assert_non_null(*err);
	const char *msg = crest_error_message(*err);
	if (crest_error_code(*err) != code)
		fail_msg("error code %d, expected %d (message \"%s\")", crest_error_code(*err), code, msg);
	if (sub1 && !strstr(msg, sub1))
		fail_msg("message \"%s\" lacks \"%s\"", msg, sub1);
	if (sub2 && !strstr(msg, sub2))
		fail_msg("message \"%s\" lacks \"%s\"", msg, sub2);
	crest_error_free(*err);
	*err = NULL;
}

/* ---- building an image ---------------------------------------------------- */

/* Contents of byte j of segment i. */
static uint8_t pattern(size_t seg, size_t j)
{
	return (uint8_t)(seg * 31 + j * 7 + 3 + (j >> 12));
}

static void plan_add(struct crest_mem_plan *plan, uint64_t start, uint64_t end, uint32_t prot)
{
	assert_int_equal(crest_grow(&plan->s, &plan->cap, plan->n + 1, sizeof(plan->s[0])), 0);
	struct crest_seg *s = &plan->s[plan->n++];
	memset(s, 0, sizeof(*s));
	s->start = start;
	s->end = end;
	s->prot = prot;
	s->vma = (uint32_t)(plan->n - 1);
	plan->total += end - start;
}

/*
 * The notes of a one-thread process.  With `per_seg`, one mapping per
 * segment plus one file mapping with nothing stored; otherwise a single
 * mapping covering every segment.  Returns the offset (in nb) of the
 * PROCESS note.
 */
static size_t build_notes(struct crest_notes *nb, uint32_t version, const struct crest_mem_plan *plan, bool per_seg)
{
	struct crest_table t;

	crest_table_init(&t, sizeof(struct crest_meta));
	struct crest_meta *m = crest_table_add(&t);
	m->image_version = version;
	m->page_size = PAGE;
	m->created_ns = 1700000000000000000ull;
	m->pid = TEST_PID;
	m->nthreads = 1;
	m->crest_version = crest_table_str(&t, CREST_VERSION_STRING);
	m->hostname = crest_table_str(&t, "imgtest-host");
	m->kernel_release = crest_table_str(&t, "6.1.0-imgtest");
	crest_notes_add_table(nb, CREST_NT_META, &t);

	size_t proc_off = nb->len;
	crest_table_init(&t, sizeof(struct crest_process));
	struct crest_process *p = crest_table_add(&t);
	p->pid = TEST_PID;
	p->ppid = 1;
	p->pgid = TEST_PID;
	p->sid = TEST_PID;
	p->umask = 022;
	p->comm = crest_table_str(&t, TEST_COMM);
	p->exe = crest_table_str(&t, TEST_EXE);
	p->cwd = crest_table_str(&t, TEST_CWD);
	p->root = crest_table_str(&t, TEST_ROOT);
	crest_notes_add_table(nb, CREST_NT_PROCESS, &t);

	crest_table_init(&t, sizeof(struct crest_vma_entry));
	if (per_seg) {
		for (size_t i = 0; i < plan->n; i++) {
			struct crest_vma_entry *e = crest_table_add(&t);
			e->start = plan->s[i].start;
			e->end = plan->s[i].end;
			e->prot = plan->s[i].prot;
			e->kind = CREST_VMA_ANON;
			e->flags = CREST_VMA_F_CONTENT;
			e->stored = e->end - e->start;
			e->rss = e->stored;
		}
		struct crest_vma_entry *e = crest_table_add(&t);
		e->start = 0x7f0000000000ull;
		e->end = 0x7f0000004000ull;
		e->prot = 5;
		e->kind = CREST_VMA_FILE;
		e->path = crest_table_str(&t, EXTRA_VMA_PATH);
	} else if (plan->n) {
		struct crest_vma_entry *e = crest_table_add(&t);
		e->start = plan->s[0].start;
		e->end = plan->s[plan->n - 1].end;
		e->prot = 3;
		e->kind = CREST_VMA_ANON;
		e->flags = CREST_VMA_F_CONTENT;
		e->stored = plan->total;
	}
	crest_notes_add_table(nb, CREST_NT_VMAS, &t);

	crest_table_init(&t, sizeof(struct crest_fd_entry));
	for (int i = 0; i < 3; i++) {
		struct crest_fd_entry *e = crest_table_add(&t);
		e->fd = i;
		e->kind = CREST_FD_CHR;
		e->open_flags = i ? 1 : 0;
		e->path = crest_table_str(&t, "/dev/null");
	}
	crest_notes_add_table(nb, CREST_NT_FDS, &t);

	crest_table_init(&t, sizeof(struct crest_sigaction));
	for (int i = 0; i < 64; i++) {
		struct crest_sigaction *a = crest_table_add(&t);
		if (i + 1 == 10) {
			a->handler = 0x401000;
			a->flags = 0x04000000;
			a->restorer = 0x401800;
		} else if (i + 1 == 13) {
			a->handler = 1; /* SIG_IGN */
		}
	}
	crest_notes_add_table(nb, CREST_NT_SIGACTIONS, &t);

	crest_table_init(&t, sizeof(struct crest_siginfo));
	crest_notes_add_table(nb, CREST_NT_SHARED_SIGQUEUE, &t);

	struct elf_prstatus ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_pid = TEST_TID;
	ps.pr_ppid = 1;
	struct user_regs_struct regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = TEST_RIP;
	regs.rsp = 0x7ffc00001000ull;
	regs.orig_rax = (unsigned long long)-1;
	_Static_assert(sizeof(ps.pr_reg) == sizeof(regs), "elf_gregset_t is user_regs_struct");
	memcpy(&ps.pr_reg, &regs, sizeof(regs));
	crest_notes_add(nb, "CORE", NT_PRSTATUS, &ps, sizeof(ps));

	crest_table_init(&t, sizeof(struct crest_thread));
	struct crest_thread *th = crest_table_add(&t);
	th->tid = TEST_TID;
	th->state = 'S';
	th->syscall_nr = -1;
	th->flags = CREST_THREAD_LEADER;
	th->comm = crest_table_str(&t, TEST_THREAD_COMM);
	crest_notes_add_table(nb, CREST_NT_THREAD, &t);

	assert_int_equal(nb->err, 0);
	return proc_off;
}

/* The number of notes build_notes() adds. */
#define NNOTES_BUILT 8

/* One test's image and everything to clean up after it, failed or not. */
struct built {
	char path[64];         /* the image file */
	char extra[128];       /* another file to remove */
	char dir[64];          /* a directory to remove (after extra) */
	struct crest_notes nb;
	struct crest_mem_plan plan;
	struct crest_layout lay;
	size_t proc_off;       /* PROCESS note, offset in the file */
	crest_ctx *ctx;
};

/* Lay out, write every segment (its pattern, or a hole when `zero`) and
 * then the head.  The file is left at b->path. */
static void write_image(struct built *b, bool zero)
{
	crest_image_layout(&b->lay, &b->nb, &b->plan, PAGE);
	snprintf(b->path, sizeof(b->path), "/tmp/crest-test-image-XXXXXX");
	int fd = mkstemp(b->path);
	assert_true(fd >= 0);
	if (zero) {
		static uint8_t zpage[PAGE];
		uint64_t zh = XXH3_64bits(zpage, PAGE);
		for (size_t i = 0; i < b->plan.n; i++) {
			assert_int_equal(b->plan.s[i].end - b->plan.s[i].start, PAGE);
			b->plan.s[i].hash = zh;
		}
		assert_int_equal(ftruncate(fd, (off_t)b->lay.file_size), 0);
	} else {
		for (size_t i = 0; i < b->plan.n; i++) {
			struct crest_seg *s = &b->plan.s[i];
			size_t len = s->end - s->start;
			uint8_t *d = malloc(len);
			assert_non_null(d);
			for (size_t j = 0; j < len; j++)
				d[j] = pattern(i, j);
			assert_int_equal(crest_pwrite_all(fd, d, len, (off_t)s->off), 0);
			s->hash = XXH3_64bits(d, len);
			free(d);
		}
	}
	crest_error *err = NULL;
	int r = crest_image_write_head(fd, &b->lay, &b->nb, &b->plan, PAGE, &err);
	if (r < 0)
		fail_msg("crest_image_write_head: %s", crest_error_message(err));
	assert_null(err);
	close(fd);
}

/* The standard image: three segments with different sizes and protections. */
static const struct {
	uint64_t start, end;
	uint32_t prot;
} std_segs[] = {
	{0x400000, 0x401000, 5},
	{0x7f1234560000ull, 0x7f1234562000ull, 3},
	{0x7ffff7ff0000ull, 0x7ffff7ff3000ull, 1},
};
#define STD_NSEG ARRAY_SIZE(std_segs)

static void build_std(struct built *b, uint32_t version)
{
	for (size_t i = 0; i < STD_NSEG; i++)
		plan_add(&b->plan, std_segs[i].start, std_segs[i].end, std_segs[i].prot);
	b->proc_off = build_notes(&b->nb, version, &b->plan, true);
	write_image(b, false);
	b->proc_off += b->lay.notes_off;
}

/* An empty `built` with a context: the test fills it in. */
static int setup_empty(void **state)
{
	struct built *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	crest_error *err = NULL;
	if (crest_ctx_new(NULL, &b->ctx, &err) < 0) {
		crest_error_free(err);
		free(b);
		return -1;
	}
	*state = b;
	return 0;
}

static int setup_std(void **state)
{
	if (setup_empty(state) < 0)
		return -1;
	build_std(*state, CREST_IMAGE_VERSION);
	return 0;
}

static int teardown_built(void **state)
{
	struct built *b = *state;
	if (!b)
		return 0;
	if (b->path[0])
		unlink(b->path);
	if (b->extra[0])
		unlink(b->extra);
	if (b->dir[0])
		rmdir(b->dir);
	crest_notes_free(&b->nb);
	crest_mem_plan_free(&b->plan);
	crest_ctx_free(b->ctx);
	free(b);
	return 0;
}

/* ---- helpers on files ------------------------------------------------------ */

static void flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	uint8_t c;
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

static void read_at(const char *path, void *buf, size_t len, uint64_t off)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* crest_image_open must fail with -code and an error naming the problem. */
static void expect_open_fail(crest_ctx *ctx, const char *path, int code, const char *sub1, const char *sub2)
{
	crest_image *img = NULL;
	crest_error *err = NULL;
	int r = crest_image_open(ctx, path, &img, &err);
	if (r >= 0) {
		crest_image_close(img);
		fail_msg("crest_image_open(%s) succeeded, expected errno %d", path, code);
	}
	assert_int_equal(r, -code);
	assert_null(img);
	check_err(&err, code, sub1, sub2);
}

static crest_image *open_ok(crest_ctx *ctx, const char *path)
{
	crest_image *img = NULL;
	crest_error *err = NULL;
	int r = crest_image_open(ctx, path, &img, &err);
	if (r < 0)
		fail_msg("crest_image_open(%s): %s", path, crest_error_message(err));
	assert_null(err);
	assert_non_null(img);
	return img;
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("JSON lacks \"%s\"", key);
	return v;
}

/* ---- round trip ------------------------------------------------------------ */

static void test_roundtrip_open(void **state)
{
	struct built *b = *state;
	crest_image *img = open_ok(b->ctx, b->path);

	assert_int_equal(img->size, b->lay.file_size);
	assert_int_equal(img->phnum, 1 + STD_NSEG);
	assert_int_equal(img->nnotes, NNOTES_BUILT + 1);
	assert_int_equal(img->notes[img->nnotes - 1].type, CREST_NT_CHECKSUM);
	assert_string_equal(img->notes[0].owner, CREST_NOTE_OWNER);
	assert_int_equal(img->notes[0].type, CREST_NT_META);

	assert_int_equal(img->meta.image_version, CREST_IMAGE_VERSION);
	assert_int_equal(img->meta.page_size, PAGE);
	assert_int_equal(img->meta.pid, TEST_PID);
	assert_int_equal(img->meta.nthreads, 1);
	struct crest_table_view mv = {.str = img->meta_str, .strsz = img->meta_strsz};
	assert_string_equal(crest_table_string(&mv, img->meta.crest_version), CREST_VERSION_STRING);
	assert_string_equal(crest_table_string(&mv, img->meta.hostname), "imgtest-host");

	/* notes are found by owner and type */
	const struct crest_note_ref *n = crest_image_find(img, "CORE", NT_PRSTATUS);
	assert_non_null(n);
	assert_int_equal(n->len, sizeof(struct elf_prstatus));
	struct elf_prstatus ps;
	memcpy(&ps, n->desc, sizeof(ps));
	assert_int_equal(ps.pr_pid, TEST_TID);
	assert_null(crest_image_find(img, CREST_NOTE_OWNER, CREST_NT_GROUPS));
	assert_null(crest_image_find(img, "LINUX", NT_PRSTATUS));

	/* the process table reads back */
	n = crest_image_find(img, CREST_NOTE_OWNER, CREST_NT_PROCESS);
	assert_non_null(n);
	struct crest_table_view tv;
	crest_error *err = NULL;
	assert_int_equal(crest_table_view(n, sizeof(struct crest_process), &tv, &err), 0);
	assert_null(err);
	assert_int_equal(tv.count, 1);
	assert_int_equal(tv.entsize, sizeof(struct crest_process));
	struct crest_process p;
	memcpy(&p, tv.ents, sizeof(p));
	assert_int_equal(p.pid, TEST_PID);
	assert_string_equal(crest_table_string(&tv, p.comm), TEST_COMM);
	assert_string_equal(crest_table_string(&tv, p.exe), TEST_EXE);
	assert_string_equal(crest_table_string(&tv, p.cwd), TEST_CWD);
	assert_string_equal(crest_table_string(&tv, p.root), TEST_ROOT);

	n = crest_image_find(img, CREST_NOTE_OWNER, CREST_NT_SIGACTIONS);
	assert_non_null(n);
	assert_int_equal(crest_table_view(n, sizeof(struct crest_sigaction), &tv, &err), 0);
	assert_int_equal(tv.count, 64);
	n = crest_image_find(img, CREST_NOTE_OWNER, CREST_NT_SHARED_SIGQUEUE);
	assert_non_null(n);
	assert_int_equal(crest_table_view(n, sizeof(struct crest_siginfo), &tv, &err), 0);
	assert_int_equal(tv.count, 0);
	assert_int_equal(tv.strsz, 0);

	/* the segments hold what was written, at the program headers' offsets */
	for (size_t i = 0; i < STD_NSEG; i++) {
		const Elf64_Phdr *ph = &img->ph[1 + i];
		assert_int_equal(ph->p_vaddr, std_segs[i].start);
		assert_int_equal(ph->p_offset, b->plan.s[i].off);
		const uint8_t *d = img->map + ph->p_offset;
		for (size_t j = 0; j < ph->p_filesz; j++)
			if (d[j] != pattern(i, j))
				fail_msg("segment %zu byte %zu is %#x, expected %#x", i, j, d[j], pattern(i, j));
	}
	crest_image_close(img);
}

static void test_roundtrip_describe_json(void **state)
{
	struct built *b = *state;
	crest_image *img = open_ok(b->ctx, b->path);
	char *out = NULL;
	crest_error *err = NULL;
	int r = crest_image_describe(img, CREST_DESCRIBE_JSON, &out, &err);
	if (r < 0)
		fail_msg("describe: %s", crest_error_message(err));
	assert_null(err);
	assert_non_null(out);

	json_object *root = json_tokener_parse(out);
	assert_non_null(root);
	assert_int_equal(json_object_get_int(jget(root, "pid")), TEST_PID);
	assert_int_equal(json_object_get_int(jget(root, "image_version")), CREST_IMAGE_VERSION);
	assert_string_equal(json_object_get_string(jget(root, "crest_version")), CREST_VERSION_STRING);
	assert_string_equal(json_object_get_string(jget(root, "hostname")), "imgtest-host");
	assert_string_equal(json_object_get_string(jget(root, "kernel")), "6.1.0-imgtest");

	json_object *proc = jget(root, "process");
	assert_string_equal(json_object_get_string(jget(proc, "comm")), TEST_COMM);
	assert_string_equal(json_object_get_string(jget(proc, "exe")), TEST_EXE);
	assert_string_equal(json_object_get_string(jget(proc, "cwd")), TEST_CWD);
	assert_string_equal(json_object_get_string(jget(proc, "root")), TEST_ROOT);
	assert_int_equal(json_object_get_int(jget(proc, "ppid")), 1);

	json_object *threads = jget(root, "threads");
	assert_int_equal(json_object_array_length(threads), 1);
	json_object *t0 = json_object_array_get_idx(threads, 0);
	assert_int_equal(json_object_get_int(jget(t0, "tid")), TEST_TID);
	assert_string_equal(json_object_get_string(jget(t0, "comm")), TEST_THREAD_COMM);
	assert_string_equal(json_object_get_string(jget(t0, "rip")), "0x401234");
	assert_string_equal(json_object_get_string(jget(t0, "state")), "S");
	assert_true(json_object_get_boolean(jget(t0, "leader")));
	assert_false(json_object_get_boolean(jget(t0, "in_syscall")));

	json_object *maps = jget(root, "mappings");
	assert_int_equal(json_object_array_length(maps), STD_NSEG + 1);
	json_object *m1 = json_object_array_get_idx(maps, 1);
	assert_string_equal(json_object_get_string(jget(m1, "start")), "0x7f1234560000");
	assert_string_equal(json_object_get_string(jget(m1, "prot")), "rw-p");
	assert_int_equal(json_object_get_int64(jget(m1, "stored")), 2 * PAGE);
	json_object *mx = json_object_array_get_idx(maps, STD_NSEG);
	assert_string_equal(json_object_get_string(jget(mx, "path")), EXTRA_VMA_PATH);
	assert_string_equal(json_object_get_string(jget(mx, "kind")), "file");

	assert_int_equal(json_object_array_length(jget(root, "fds")), 3);
	json_object *sig = jget(root, "signals");
	assert_int_equal(json_object_array_length(jget(sig, "shared_pending")), 0);
	json_object *acts = jget(sig, "actions");
	assert_int_equal(json_object_array_length(acts), 2);
	assert_int_equal(json_object_get_int(jget(json_object_array_get_idx(acts, 0), "signo")), 10);
	assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(acts, 1), "handler")), "SIG_IGN");

	json_object *tot = jget(root, "totals");
	assert_int_equal(json_object_get_int64(jget(tot, "segments")), STD_NSEG);
	assert_int_equal(json_object_get_int64(jget(tot, "stored")), 6 * PAGE);
	assert_int_equal(json_object_get_int64(jget(tot, "file_size")), (int64_t)b->lay.file_size);

	json_object_put(root);
	free(out);

	/* the text rendering says the same things */
	assert_int_equal(crest_image_describe(img, CREST_DESCRIBE_TEXT, &out, &err), 0);
	assert_null(err);
	assert_non_null(strstr(out, TEST_COMM));
	assert_non_null(strstr(out, "pid 4242"));
	assert_non_null(strstr(out, "mappings (4)"));
	free(out);
	crest_image_close(img);
}

/* [a, a+alen) and [b, b+blen) do not overlap. */
static bool disjoint(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a;
}

static void test_elf_sanity(void **state)
{
	struct built *b = *state;
	struct stat st;
	assert_int_equal(stat(b->path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, b->lay.file_size);
	assert_int_equal(b->lay.phnum, 1 + STD_NSEG);
	assert_true(b->lay.notes_off < b->lay.csum_off && b->lay.csum_off < b->lay.notes_end);
	assert_true(b->lay.notes_end <= b->lay.file_size);

	Elf64_Ehdr eh;
	read_at(b->path, &eh, sizeof(eh), 0);
	assert_memory_equal(eh.e_ident, ELFMAG, SELFMAG);
	assert_int_equal(eh.e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(eh.e_ident[EI_DATA], ELFDATA2LSB);
	assert_int_equal(eh.e_type, ET_CORE);
	assert_int_equal(eh.e_machine, EM_X86_64);
	assert_int_equal(eh.e_ehsize, sizeof(Elf64_Ehdr));
	assert_int_equal(eh.e_phentsize, sizeof(Elf64_Phdr));
	assert_int_equal(eh.e_phnum, 1 + STD_NSEG);
	assert_int_equal(eh.e_shnum, 0);
	assert_int_equal(eh.e_phoff % 8, 0);
	assert_true(eh.e_phoff >= sizeof(Elf64_Ehdr));
	uint64_t phlen = (1 + STD_NSEG) * sizeof(Elf64_Phdr);
	assert_true(eh.e_phoff + phlen <= (uint64_t)st.st_size);
	assert_true(disjoint(eh.e_phoff, phlen, b->lay.notes_off, b->lay.notes_end - b->lay.notes_off));

	Elf64_Phdr ph[1 + STD_NSEG];
	read_at(b->path, ph, sizeof(ph), eh.e_phoff);
	assert_int_equal(ph[0].p_type, PT_NOTE);
	assert_int_equal(ph[0].p_offset, b->lay.notes_off);
	assert_int_equal(ph[0].p_filesz, b->lay.notes_end - b->lay.notes_off);
	static const uint32_t flags[] = {PF_R | PF_X, PF_R | PF_W, PF_R};
	for (size_t i = 1; i <= STD_NSEG; i++) {
		assert_int_equal(ph[i].p_type, PT_LOAD);
		assert_int_equal(ph[i].p_offset % PAGE, 0);
		assert_int_equal(ph[i].p_offset, b->plan.s[i - 1].off);
		assert_int_equal(ph[i].p_filesz, ph[i].p_memsz);
		assert_int_equal(ph[i].p_filesz, std_segs[i - 1].end - std_segs[i - 1].start);
		assert_int_equal(ph[i].p_vaddr, std_segs[i - 1].start);
		assert_int_equal(ph[i].p_flags, flags[i - 1]);
		assert_int_equal(ph[i].p_align, PAGE);
		assert_true(ph[i].p_offset + ph[i].p_filesz <= (uint64_t)st.st_size);
		/* the data overlaps nothing else in the file */
		assert_true(disjoint(ph[i].p_offset, ph[i].p_filesz, 0, sizeof(Elf64_Ehdr)));
		assert_true(disjoint(ph[i].p_offset, ph[i].p_filesz, eh.e_phoff, phlen));
		assert_true(disjoint(ph[i].p_offset, ph[i].p_filesz, ph[0].p_offset, ph[0].p_filesz));
		for (size_t k = 1; k < i; k++)
			assert_true(disjoint(ph[i].p_offset, ph[i].p_filesz, ph[k].p_offset, ph[k].p_filesz));
	}

	/* the first note is META and the checksum note sits at csum_off */
	Elf64_Nhdr nh;
	char owner[8];
	read_at(b->path, &nh, sizeof(nh), b->lay.notes_off);
	read_at(b->path, owner, sizeof(owner), b->lay.notes_off + sizeof(nh));
	assert_int_equal(nh.n_type, CREST_NT_META);
	assert_int_equal(nh.n_namesz, sizeof(CREST_NOTE_OWNER));
	assert_string_equal(owner, CREST_NOTE_OWNER);
	read_at(b->path, &nh, sizeof(nh), b->lay.csum_off);
	assert_int_equal(nh.n_type, CREST_NT_CHECKSUM);
	assert_int_equal(nh.n_descsz, sizeof(struct crest_checksum) + 8 * STD_NSEG + 8);
	struct crest_checksum ck;
	read_at(b->path, &ck, sizeof(ck), b->lay.csum_off + sizeof(nh) + 8);
	assert_int_equal(ck.algo, CREST_CSUM_XXH3_64);
	assert_int_equal(ck.nseg, STD_NSEG);
	assert_int_equal(ck.head_len, b->lay.csum_off);
	uint64_t h;
	read_at(b->path, &h, 8, b->lay.csum_off + sizeof(nh) + 8 + sizeof(ck) + 8);
	assert_int_equal(h, b->plan.s[1].hash);
}

/* An image without any stored memory is still an image. */
static void test_no_segments(void **state)
{
	struct built *b = *state;
	build_notes(&b->nb, CREST_IMAGE_VERSION, &b->plan, true);
	write_image(b, false);
	assert_int_equal(b->lay.phnum, 1);
	struct stat st;
	assert_int_equal(stat(b->path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, b->lay.file_size);
	crest_image *img = open_ok(b->ctx, b->path);
	assert_int_equal(img->phnum, 1);
	assert_int_equal(img->eh->e_phnum, 1);
	assert_int_equal(img->meta.pid, TEST_PID);
	crest_image_close(img);
}

/* A directory is opened as DIR/crest.core. */
static void test_open_directory(void **state)
{
	struct built *b = *state;
	snprintf(b->dir, sizeof(b->dir), "/tmp/crest-test-imgdir-XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	const char *dir = b->dir, *file = b->extra;
	snprintf(b->extra, sizeof(b->extra), "%s/%s", dir, CREST_IMAGE_FILE);

	/* empty directory: ENOENT naming the file it looked for */
	expect_open_fail(b->ctx, dir, ENOENT, dir, CREST_IMAGE_FILE);

	assert_int_equal(link(b->path, file), 0);
	crest_image *img = open_ok(b->ctx, dir);
	assert_string_equal(img->path, file);
	assert_int_equal(img->meta.pid, TEST_PID);
	crest_image_close(img);
}

/* ---- damage ---------------------------------------------------------------- */

static void test_corrupt_note(void **state)
{
	struct built *b = *state;
	/* the ppid field of the process entry: structure intact, bytes wrong */
	uint64_t off = b->proc_off + sizeof(Elf64_Nhdr) + 8 + sizeof(struct crest_table_hdr) +
		       offsetof(struct crest_process, ppid);
	assert_true(off < b->lay.csum_off);
	flip_byte(b->path, off);
	expect_open_fail(b->ctx, b->path, EBADMSG, "headers or notes", b->path);
	flip_byte(b->path, off);
	crest_image_close(open_ok(b->ctx, b->path));

	/* the comm string in the string table */
	off = b->proc_off + sizeof(Elf64_Nhdr) + 8 + sizeof(struct crest_table_hdr) + sizeof(struct crest_process) + 2;
	flip_byte(b->path, off);
	expect_open_fail(b->ctx, b->path, EBADMSG, "headers or notes", "damaged");
}

static void test_corrupt_headers(void **state)
{
	struct built *b = *state;
	/* e_flags: not looked at, but covered by the checksum */
	flip_byte(b->path, offsetof(Elf64_Ehdr, e_flags));
	expect_open_fail(b->ctx, b->path, EBADMSG, "headers or notes", NULL);
	flip_byte(b->path, offsetof(Elf64_Ehdr, e_flags));
	/* p_vaddr of the second segment */
	Elf64_Ehdr eh;
	read_at(b->path, &eh, sizeof(eh), 0);
	uint64_t off = eh.e_phoff + 2 * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_vaddr) + 1;
	flip_byte(b->path, off);
	expect_open_fail(b->ctx, b->path, EBADMSG, "headers or notes", NULL);
	flip_byte(b->path, off);
	/* p_flags of the PT_NOTE header */
	off = eh.e_phoff + offsetof(Elf64_Phdr, p_flags);
	flip_byte(b->path, off);
	expect_open_fail(b->ctx, b->path, EBADMSG, "headers or notes", NULL);
	flip_byte(b->path, off);
	crest_image_close(open_ok(b->ctx, b->path));
}

/* Overwrite 8 bytes at `off`. */
static void put_u64(const char *path, uint64_t off, uint64_t v)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &v, 8, (off_t)off), 8);
	close(fd);
}

/* Header offsets near 2^64 must not wrap the bounds checks, and a
 * misaligned one must be reported, not read in place. */
static void test_wild_offsets(void **state)
{
	struct built *b = *state;
	Elf64_Ehdr eh;
	read_at(b->path, &eh, sizeof(eh), 0);
	put_u64(b->path, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 50);
	expect_open_fail(b->ctx, b->path, EBADMSG, "program header", NULL);
	put_u64(b->path, offsetof(Elf64_Ehdr, e_phoff), eh.e_phoff + 1);
	expect_open_fail(b->ctx, b->path, EBADMSG, "program header", NULL);
	put_u64(b->path, offsetof(Elf64_Ehdr, e_phoff), eh.e_phoff);
	/* PN_XNUM with a section header offset that would wrap */
	Elf64_Half xnum = PN_XNUM;
	int fd = open(b->path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &xnum, 2, offsetof(Elf64_Ehdr, e_phnum)), 2);
	close(fd);
	put_u64(b->path, offsetof(Elf64_Ehdr, e_shoff), UINT64_MAX - 16);
	expect_open_fail(b->ctx, b->path, EBADMSG, "section header", NULL);
}

static void test_corrupt_segment(void **state)
{
	struct built *b = *state;
	flip_byte(b->path, b->plan.s[1].off + 100);
	expect_open_fail(b->ctx, b->path, EBADMSG, "memory of", "0x7f1234560000-0x7f1234562000");
	flip_byte(b->path, b->plan.s[1].off + 100);
	crest_image_close(open_ok(b->ctx, b->path));

	/* the last byte of the last segment */
	const struct crest_seg *last = &b->plan.s[STD_NSEG - 1];
	flip_byte(b->path, last->off + (last->end - last->start) - 1);
	expect_open_fail(b->ctx, b->path, EBADMSG, "memory of", "0x7ffff7ff0000");
}

static void test_corrupt_checksum_note(void **state)
{
	struct built *b = *state;
	uint64_t desc = b->lay.csum_off + sizeof(Elf64_Nhdr) + 8;
	/* a segment hash */
	flip_byte(b->path, desc + sizeof(struct crest_checksum) + 8 + 3);
	expect_open_fail(b->ctx, b->path, EBADMSG, "checksum note", b->path);
	flip_byte(b->path, desc + sizeof(struct crest_checksum) + 8 + 3);
	/* the head hash */
	flip_byte(b->path, desc + offsetof(struct crest_checksum, head_hash));
	expect_open_fail(b->ctx, b->path, EBADMSG, "checksum note", NULL);
	flip_byte(b->path, desc + offsetof(struct crest_checksum, head_hash));
	/* the self hash, last bytes of the note */
	flip_byte(b->path, b->lay.notes_end - 1);
	expect_open_fail(b->ctx, b->path, EBADMSG, "checksum note", NULL);
	flip_byte(b->path, b->lay.notes_end - 1);
	crest_image_close(open_ok(b->ctx, b->path));
}

static void test_truncated_page(void **state)
{
	struct built *b = *state;
	Elf64_Ehdr eh;
	read_at(b->path, &eh, sizeof(eh), 0);
	/* One page off the end.  (The notes of this image are longer than a
	 * page, so the program headers survive and the cut shows as a segment
	 * running past the end of the file.) */
	assert_true(b->lay.file_size - PAGE >= eh.e_phoff + b->lay.phnum * sizeof(Elf64_Phdr));
	assert_int_equal(truncate(b->path, (off_t)(b->lay.file_size - PAGE)), 0);
	expect_open_fail(b->ctx, b->path, EBADMSG, "truncated", b->path);
	/* cut inside the notes, in the checksum note */
	assert_int_equal(truncate(b->path, (off_t)b->lay.csum_off + 4), 0);
	expect_open_fail(b->ctx, b->path, EBADMSG, "truncated", NULL);
	/* Cut in the program headers, then in the segment data.  Refused as
	 * damaged; the message ("the program headers are cut short or
	 * malformed") does not say "truncated" yet, so only the errno and the
	 * path are checked here. */
	assert_int_equal(truncate(b->path, (off_t)eh.e_phoff + 10), 0);
	expect_open_fail(b->ctx, b->path, EBADMSG, b->path, "damaged");
	assert_int_equal(truncate(b->path, (off_t)b->plan.s[STD_NSEG - 1].off + 100), 0);
	expect_open_fail(b->ctx, b->path, EBADMSG, b->path, "damaged");
}

static void test_truncated_tiny(void **state)
{
	struct built *b = *state;
	assert_int_equal(truncate(b->path, 10), 0);
	expect_open_fail(b->ctx, b->path, EBADMSG, "truncated", b->path);
	assert_int_equal(truncate(b->path, 0), 0);
	expect_open_fail(b->ctx, b->path, EBADMSG, "truncated", NULL);
}

static void test_newer_version(void **state)
{
	struct built *b = *state;
	build_std(b, CREST_IMAGE_VERSION + 1);
	expect_open_fail(b->ctx, b->path, EPROTONOSUPPORT, "newer", "upgrade");
}

static void test_not_elf(void **state)
{
	struct built *b = *state;
	char *path = b->extra;
	snprintf(path, sizeof(b->extra), "/tmp/crest-test-notelf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char text[PAGE];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "hello, this is not an image\n"[i % 28];
	assert_int_equal(crest_pwrite_all(fd, text, sizeof(text), 0), 0);
	close(fd);
	expect_open_fail(b->ctx, path, EINVAL, "not an ELF64 core", path);

	/* an ELF file of another type (ET_EXEC) is not an image either */
	uint16_t type = ET_EXEC;
	fd = open(b->path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &type, 2, offsetof(Elf64_Ehdr, e_type)), 2);
	close(fd);
	expect_open_fail(b->ctx, b->path, EINVAL, "not an ELF64 core", NULL);
}

static void test_missing(void **state)
{
	struct built *b = *state;
	char path[128];
	snprintf(path, sizeof(path), "/tmp/crest-test-missing-%d/none.core", (int)getpid());
	expect_open_fail(b->ctx, path, ENOENT, path, "no image");
}

/* ---- tables ---------------------------------------------------------------- */

static struct crest_note_ref table_note(uint8_t *buf, size_t bufsz, uint32_t entsize, uint32_t count,
					uint32_t strsz, uint32_t len)
{
	assert_true(len <= bufsz);
	memset(buf, 0, bufsz);
	struct crest_table_hdr h = {.version = CREST_IMAGE_VERSION, .entsize = entsize, .count = count,
				    .strtab_size = strsz};
	memcpy(buf, &h, sizeof(h));
	return (struct crest_note_ref){.owner = CREST_NOTE_OWNER, .type = CREST_NT_VMAS, .desc = buf, .len = len};
}

static void test_table_view_bad(void **state)
{
	(void)state;
	static uint8_t buf[1024];
	struct crest_table_view tv;
	crest_error *err = NULL;

	/* entsize * count larger than the note */
	struct crest_note_ref n = table_note(buf, sizeof(buf), 96, 5, 0, 16 + 96 * 4);
	assert_int_equal(crest_table_view(&n, 96, &tv, &err), -EBADMSG);
	check_err(&err, EBADMSG, "bad table layout", "count 5");
	/* one byte short with a string table */
	n = table_note(buf, sizeof(buf), 96, 2, 8, 16 + 96 * 2 + 7);
	assert_int_equal(crest_table_view(&n, 96, &tv, &err), -EBADMSG);
	check_err(&err, EBADMSG, "bad table layout", NULL);
	/* a product that wraps in 32 bits must not pass */
	n = table_note(buf, sizeof(buf), 0x10000, 0x10000, 0, 16);
	assert_int_equal(crest_table_view(&n, 96, &tv, &err), -EBADMSG);
	check_err(&err, EBADMSG, "bad table layout", NULL);
	/* a huge string table, ditto */
	n = table_note(buf, sizeof(buf), 96, 1, UINT32_MAX - 100, 16 + 96);
	assert_int_equal(crest_table_view(&n, 96, &tv, &err), -EBADMSG);
	check_err(&err, EBADMSG, "bad table layout", NULL);
	/* entries smaller than the reader needs */
	n = table_note(buf, sizeof(buf), 64, 1, 0, 16 + 64);
	assert_int_equal(crest_table_view(&n, 96, &tv, &err), -EBADMSG);
	check_err(&err, EBADMSG, "bad table layout", "entsize 64");
	/* shorter than the table header */
	n = table_note(buf, sizeof(buf), 0, 0, 0, 15);
	assert_int_equal(crest_table_view(&n, 0, &tv, &err), -EBADMSG);
	check_err(&err, EBADMSG, "too short", NULL);
	/* a string table without its terminator */
	n = table_note(buf, sizeof(buf), 96, 1, 4, 16 + 96 + 4);
	memcpy(buf + 16 + 96, "\0abc", 4);
	assert_int_equal(crest_table_view(&n, 96, &tv, &err), -EBADMSG);
	check_err(&err, EBADMSG, "not terminated", NULL);
	/* no error object asked for: still fails */
	n = table_note(buf, sizeof(buf), 96, 5, 0, 16);
	assert_int_equal(crest_table_view(&n, 96, &tv, NULL), -EBADMSG);

	/* exact fit, with larger entries than the reader knows: accepted */
	n = table_note(buf, sizeof(buf), 100, 2, 4, 16 + 200 + 4);
	memcpy(buf + 16 + 200, "\0ab\0", 4);
	assert_int_equal(crest_table_view(&n, 96, &tv, &err), 0);
	assert_null(err);
	assert_int_equal(tv.entsize, 100);
	assert_int_equal(tv.count, 2);
	assert_ptr_equal(tv.ents, buf + 16);
	assert_ptr_equal(tv.str, (const char *)buf + 216);
	assert_string_equal(crest_table_string(&tv, 1), "ab");
	assert_string_equal(crest_table_string(&tv, 0), "");
	assert_string_equal(crest_table_string(&tv, 3), "");
	assert_string_equal(crest_table_string(&tv, 4), "");
	assert_string_equal(crest_table_string(&tv, 1000), "");
	assert_string_equal(crest_table_string(&tv, UINT32_MAX), "");
}

/* Tables built by the writer parse back with crest_table_view. */
static void test_table_build(void **state)
{
	(void)state;
	struct crest_table t;
	crest_table_init(&t, sizeof(struct crest_fd_entry));
	assert_int_equal(crest_table_str(&t, NULL), 0);
	assert_int_equal(crest_table_str(&t, ""), 0);
	uint32_t offs[40];
	char s[32];
	for (int i = 0; i < 40; i++) {
		struct crest_fd_entry *e = crest_table_add(&t);
		e->fd = i;
		snprintf(s, sizeof(s), "/path/number/%d", i);
		offs[i] = crest_table_str(&t, s);
		e->path = offs[i];
	}
	assert_int_equal(offs[0], 1);
	assert_int_equal(offs[1], 1 + strlen("/path/number/0") + 1);
	assert_int_equal(t.n, 40);

	struct crest_notes nb = {0};
	crest_notes_add(&nb, "CORE", NT_PRSTATUS, "abcde", 5);
	size_t first = nb.len;
	assert_int_equal(first, sizeof(Elf64_Nhdr) + 8 + 8);
	crest_notes_add_table(&nb, CREST_NT_FDS, &t);
	assert_null(t.ents);
	assert_null(t.str);
	assert_int_equal(nb.err, 0);
	assert_int_equal(nb.len % 4, 0);

	Elf64_Nhdr nh;
	memcpy(&nh, nb.buf + first, sizeof(nh));
	assert_int_equal(nh.n_type, CREST_NT_FDS);
	assert_int_equal(nh.n_namesz, 6);
	assert_string_equal((const char *)nb.buf + first + sizeof(nh), CREST_NOTE_OWNER);
	struct crest_note_ref n = {.owner = CREST_NOTE_OWNER, .type = nh.n_type,
				   .desc = nb.buf + first + sizeof(nh) + 8, .len = nh.n_descsz};
	assert_int_equal(first + sizeof(nh) + 8 + ALIGN_UP(nh.n_descsz, 4), nb.len);
	struct crest_table_view tv;
	crest_error *err = NULL;
	assert_int_equal(crest_table_view(&n, sizeof(struct crest_fd_entry), &tv, &err), 0);
	assert_null(err);
	assert_int_equal(tv.count, 40);
	for (int i = 0; i < 40; i++) {
		struct crest_fd_entry e;
		memcpy(&e, tv.ents + (size_t)i * tv.entsize, sizeof(e));
		assert_int_equal(e.fd, i);
		snprintf(s, sizeof(s), "/path/number/%d", i);
		assert_string_equal(crest_table_string(&tv, e.path), s);
	}
	crest_notes_free(&nb);
	assert_null(nb.buf);
	assert_int_equal(nb.len, 0);
}

/* A failure while building the notes is reported by write_head. */
static void test_notes_error(void **state)
{
	struct built *b = *state;
	struct crest_notes nb = {0};
	struct crest_mem_plan plan = {0};
	struct crest_layout lay;
	crest_notes_add(&nb, "CORE", NT_PRSTATUS, "x", 1);
	size_t len = nb.len;
	static const char dummy[8];
	/* too big for a note: the descriptor is not read */
	crest_notes_add(&nb, CREST_NOTE_OWNER, CREST_NT_VMAS, dummy, (size_t)UINT32_MAX + 1);
	assert_int_equal(nb.err, -E2BIG);
	assert_int_equal(nb.len, len);
	crest_image_layout(&lay, &nb, &plan, PAGE);
	snprintf(b->extra, sizeof(b->extra), "/tmp/crest-test-noteserr-XXXXXX");
	int fd = mkstemp(b->extra);
	assert_true(fd >= 0);
	crest_error *err = NULL;
	assert_int_equal(crest_image_write_head(fd, &lay, &nb, &plan, PAGE, &err), -E2BIG);
	check_err(&err, E2BIG, "building the image notes", NULL);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	close(fd);
	crest_notes_free(&nb);
}

/* ---- many segments: PN_XNUM ------------------------------------------------ */

static void many_segments(struct built *b, size_t nseg, bool xnum)
{
	const uint64_t base = 0x10000000ull;
	for (size_t i = 0; i < nseg; i++)
		plan_add(&b->plan, base + 2 * PAGE * i, base + 2 * PAGE * i + PAGE, (i % 3) ? 3 : 1);
	build_notes(&b->nb, CREST_IMAGE_VERSION, &b->plan, false);
	write_image(b, true);
	assert_int_equal(b->lay.phnum, nseg + 1);

	Elf64_Ehdr eh;
	read_at(b->path, &eh, sizeof(eh), 0);
	if (xnum) {
		assert_int_equal(eh.e_phnum, PN_XNUM);
		assert_int_equal(eh.e_shnum, 1);
		assert_int_equal(eh.e_shentsize, sizeof(Elf64_Shdr));
		assert_int_equal(eh.e_shoff, eh.e_phoff + (nseg + 1) * sizeof(Elf64_Phdr));
		Elf64_Shdr sh;
		read_at(b->path, &sh, sizeof(sh), eh.e_shoff);
		assert_int_equal(sh.sh_info, nseg + 1);
		assert_int_equal(sh.sh_type, SHT_NULL);
		assert_true(eh.e_shoff + sizeof(sh) <= b->lay.notes_off);
	} else {
		assert_int_equal(eh.e_phnum, nseg + 1);
		assert_int_equal(eh.e_shnum, 0);
		assert_int_equal(eh.e_shoff, 0);
	}
	Elf64_Phdr last;
	read_at(b->path, &last, sizeof(last), eh.e_phoff + nseg * sizeof(Elf64_Phdr));
	assert_int_equal(last.p_type, PT_LOAD);
	assert_int_equal(last.p_vaddr, base + 2 * PAGE * (nseg - 1));
	assert_int_equal(last.p_offset, b->plan.s[nseg - 1].off);
	assert_int_equal(last.p_filesz, PAGE);
	assert_int_equal(last.p_memsz, PAGE);
	assert_int_equal(last.p_offset % PAGE, 0);
	assert_true(last.p_offset + PAGE <= b->lay.file_size);

	crest_image *img = open_ok(b->ctx, b->path);
	assert_int_equal(img->phnum, nseg + 1);
	assert_int_equal(img->meta.pid, TEST_PID);
	char *out = NULL;
	crest_error *err = NULL;
	assert_int_equal(crest_image_describe(img, CREST_DESCRIBE_JSON, &out, &err), 0);
	assert_null(err);
	json_object *root = json_tokener_parse(out);
	assert_non_null(root);
	json_object *tot = jget(root, "totals");
	assert_int_equal(json_object_get_int64(jget(tot, "segments")), (int64_t)nseg);
	assert_int_equal(json_object_get_int64(jget(tot, "stored")), (int64_t)(nseg * PAGE));
	json_object_put(root);
	free(out);
	crest_image_close(img);

	/* damage in the middle of the extended program headers is noticed */
	flip_byte(b->path, eh.e_phoff + (nseg / 2) * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_flags));
	expect_open_fail(b->ctx, b->path, EBADMSG, "headers or notes", NULL);
}

static void test_xnum(void **state)
{
	many_segments(*state, 70000, true);
}

/* 65535 program headers is already PN_XNUM... */
static void test_xnum_boundary(void **state)
{
	many_segments(*state, PN_XNUM - 1, true);
}

/* ...and 65534 fit in e_phnum. */
static void test_below_xnum(void **state)
{
	many_segments(*state, PN_XNUM - 2, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_open, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_roundtrip_describe_json, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_elf_sanity, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_no_segments, setup_empty, teardown_built),
		cmocka_unit_test_setup_teardown(test_open_directory, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_corrupt_note, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_corrupt_headers, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_corrupt_segment, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_wild_offsets, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_corrupt_checksum_note, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_truncated_page, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_truncated_tiny, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_newer_version, setup_empty, teardown_built),
		cmocka_unit_test_setup_teardown(test_not_elf, setup_std, teardown_built),
		cmocka_unit_test_setup_teardown(test_missing, setup_std, teardown_built),
		cmocka_unit_test(test_table_view_bad),
		cmocka_unit_test(test_table_build),
		cmocka_unit_test_setup_teardown(test_notes_error, setup_empty, teardown_built),
		cmocka_unit_test_setup_teardown(test_xnum, setup_empty, teardown_built),
		cmocka_unit_test_setup_teardown(test_xnum_boundary, setup_empty, teardown_built),
		cmocka_unit_test_setup_teardown(test_below_xnum, setup_empty, teardown_built),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
