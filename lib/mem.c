/*
 * mem.c - choosing and copying page contents.
 *
 * What is stored, per mapping kind:
 *  - private anonymous memory (incl. heap, stack, named anon): every page
 *    that is present or swapped, except the kernel's shared zero page;
 *  - private file mappings: only pages that were written (copy-on-write
 *    anonymous copies); unmodified pages come back from the file;
 *  - shared file mappings of files that still exist: nothing, the data is
 *    in the file;
 *  - shared anonymous memory, memfd, SysV shm and deleted files: every data
 *    range of the backing object (SEEK_DATA/SEEK_HOLE) inside the mapping,
 *    plus written private pages;
 *  - [vdso]: all of it (restore compares it with the running kernel's);
 *  - [vvar], [vvar_vclock], [vsyscall] and I/O or PFN mappings: nothing.
 * Pages are found with the PAGEMAP_SCAN ioctl, which walks page tables in
 * the kernel and returns runs of pages with the same category.
 *
 * Copying: process_vm_readv into a small cache-resident buffer; there,
 * pages of zeros in anonymous memory are dropped, and each stored run is
 * hashed while hot; a second thread pwritev()s the runs (see below).
 * /proc/PID/mem serves mappings the target cannot read itself.
 */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <xxhash.h>

#include "compat.h"
#include "mem.h"


static int special_kind(const char *path)
{
	static const struct {
		const char *name;
		int kind;
	} names[] = {
		{"[heap]", CREST_VMA_HEAP},        {"[stack]", CREST_VMA_STACK},
		{"[vdso]", CREST_VMA_VDSO},        {"[vvar]", CREST_VMA_VVAR},
		{"[vvar_vclock]", CREST_VMA_VVAR_VCLOCK}, {"[vsyscall]", CREST_VMA_VSYSCALL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(path, names[i].name))
			return names[i].kind;
	if (!strncmp(path, "[anon:", 6))
		return CREST_VMA_ANON;
	if (!strncmp(path, "[anon_shmem:", 12))
		return CREST_VMA_SHMEM;
	return CREST_VMA_OTHER_SPECIAL;
}

int crest_mem_classify(crest_ctx *ctx, pid_t pid, const struct crest_proc_vmas *vmas,
		       struct crest_vma_entry *out, crest_error **err)
{
	(void)ctx;
	(void)err;
	for (size_t i = 0; i < vmas->n; i++) {
		const struct crest_proc_vma *v = &vmas->v[i];
		struct crest_vma_entry *e = &out[i];
		memset(e, 0, sizeof(*e));
		e->start = v->start;
		e->end = v->end;
		e->pgoff = v->pgoff;
		e->ino = v->ino;
		e->dev_major = v->dev_major;
		e->dev_minor = v->dev_minor;
		e->prot = v->prot;
		e->vmflags = v->vmflags;
		e->rss = v->rss;
		if (v->shared)
			e->flags |= CREST_VMA_F_SHARED;
		if (v->vmflags & CREST_VMF_GD)
			e->flags |= CREST_VMA_F_GROWSDOWN;
		if (!v->path) {
			e->kind = v->shared ? CREST_VMA_SHMEM : CREST_VMA_ANON;
		} else if (v->path[0] == '[') {
			e->kind = (uint32_t)special_kind(v->path);
		} else {
			/* A file.  Ask the mapping itself (map_files), not the
			 * path, which may now name another file. */
			char link[96];
			struct stat st;
			snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)v->start,
				 (unsigned long)v->end);
			bool have = stat(link, &st) == 0;
			bool deleted = v->deleted || (have && st.st_nlink == 0);
			if (deleted) {
				e->kind = CREST_VMA_SHMEM;
				e->flags |= CREST_VMA_F_DELETED;
			} else {
				e->kind = CREST_VMA_FILE;
			}
			if (have) {
				e->file_size = (uint64_t)st.st_size;
				e->file_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
			}
		}
		if (e->kind != CREST_VMA_FILE && e->kind != CREST_VMA_VDSO && e->kind != CREST_VMA_VVAR &&
		    e->kind != CREST_VMA_VVAR_VCLOCK && e->kind != CREST_VMA_VSYSCALL)
			e->flags |= CREST_VMA_F_CONTENT;
	}
	return 0;
}

/* A growable list of [start, end) ranges. */
struct ranges {
	uint64_t (*r)[2];
	size_t n, cap;
};

static int ranges_add(struct ranges *rs, uint64_t s, uint64_t e)
{
	if (rs->n && rs->r[rs->n - 1][1] == s) {
		rs->r[rs->n - 1][1] = e;
		return 0;
	}
	if (crest_grow(&rs->r, &rs->cap, rs->n + 1, sizeof(rs->r[0])) < 0)
		return -ENOMEM;
	rs->r[rs->n][0] = s;
	rs->r[rs->n][1] = e;
	rs->n++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Sort and merge overlapping or touching ranges in place. */
static void ranges_normalize(struct ranges *rs)
{
	if (rs->n < 2)
		return;
	qsort(rs->r, rs->n, sizeof(rs->r[0]), cmp_range);
	size_t w = 0;
	for (size_t i = 1; i < rs->n; i++) {
		if (rs->r[i][0] <= rs->r[w][1]) {
			if (rs->r[i][1] > rs->r[w][1])
				rs->r[w][1] = rs->r[i][1];
		} else {
			rs->r[++w][0] = rs->r[i][0];
			rs->r[w][1] = rs->r[i][1];
		}
	}
	rs->n = w + 1;
}

/* Add the pages of [start, end) that hold private data: present or
 * swapped, not the zero page, not an unmodified page of a file. */
static int scan_private(int pagemap, pid_t pid, uint64_t start, uint64_t end, struct ranges *rs,
			crest_error **err)
{
	struct page_region vec[512];
	uint64_t at = start;
	while (at < end) {
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			.start = at,
			.end = end,
			.vec = (uint64_t)(uintptr_t)vec,
			.vec_len = ARRAY_SIZE(vec),
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_FILE | PAGE_IS_PFNZERO,
		};
		int n = ioctl(pagemap, PAGEMAP_SCAN, &arg);
		if (n < 0) {
			if (errno == ENOTTY || errno == EINVAL)
				return crest_err(err, ENOTSUP,
						 "pid %d: the PAGEMAP_SCAN ioctl is not available (Linux 6.7 or later is needed)",
						 pid);
			return crest_err_sys(err, errno, "pid %d: PAGEMAP_SCAN of %#lx-%#lx", pid, (unsigned long)at,
					     (unsigned long)end);
		}
		for (int i = 0; i < n; i++) {
			uint64_t c = vec[i].categories;
			bool keep = (c & PAGE_IS_SWAPPED) ||
				    ((c & PAGE_IS_PRESENT) && !(c & (PAGE_IS_PFNZERO | PAGE_IS_FILE)));
			if (keep && ranges_add(rs, vec[i].start, vec[i].end) < 0)
				return crest_err(err, ENOMEM, "pid %d: out of memory listing pages", pid);
		}
		if (arg.walk_end <= at || (size_t)n < ARRAY_SIZE(vec))
			break;
		at = arg.walk_end;
	}
	return 0;
}

/* Add the data ranges of the object behind a shmem/memfd/deleted-file
 * mapping, seen through /proc/PID/map_files. */
static int scan_object(pid_t pid, const struct crest_proc_vma *v, long psz, struct ranges *rs, crest_error **err)
{
	char link[96];
	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)v->start,
		 (unsigned long)v->end);
	cleanup_close int fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return crest_err_sys(err, errno,
				     "pid %d: opening the object behind mapping %#lx-%#lx (%s) to store its contents; crest needs CAP_CHECKPOINT_RESTORE or root",
				     pid, (unsigned long)v->start, (unsigned long)v->end, v->path ? v->path : "shared anonymous");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return crest_err_sys(err, errno, "pid %d: fstat of %s", pid, link);
	uint64_t lo = v->pgoff, hi = v->pgoff + (v->end - v->start);
	if ((uint64_t)st.st_size < hi)
		hi = (uint64_t)st.st_size; /* pages past EOF cannot hold data */
	hi = ALIGN_UP(hi, (uint64_t)psz);
	off_t at = (off_t)lo;
	while ((uint64_t)at < hi) {
		off_t d = lseek(fd, at, SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO)
				break;
			if (errno == EINVAL || errno == ENOTSUP) { /* no hole support: all of it */
				return ranges_add(rs, v->start, v->start + (hi - lo)) < 0 ? -ENOMEM : 0;
			}
			return crest_err_sys(err, errno, "pid %d: SEEK_DATA in %s", pid, link);
		}
		if ((uint64_t)d >= hi)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0)
			return crest_err_sys(err, errno, "pid %d: SEEK_HOLE in %s", pid, link);
		uint64_t s = (uint64_t)d & ~((uint64_t)psz - 1);
		uint64_t e = ALIGN_UP((uint64_t)h, (uint64_t)psz);
		if (e > hi)
			e = hi;
		if (ranges_add(rs, v->start + (s - lo), v->start + (e - lo)) < 0)
			return crest_err(err, ENOMEM, "pid %d: out of memory listing pages", pid);
		at = (off_t)e;
	}
	return 0;
}

int crest_mem_scan(crest_ctx *ctx, pid_t pid, const struct crest_proc_vmas *vmas,
		   struct crest_vma_entry *ents, struct crest_mem_plan *plan, crest_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	cleanup_close int pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return crest_err_sys(err, errno, "pid %d: opening %s", pid, path);
	memset(plan, 0, sizeof(*plan));
	struct ranges rs = {0};
	int ret = 0;
	for (size_t i = 0; i < vmas->n; i++) {
		const struct crest_proc_vma *v = &vmas->v[i];
		struct crest_vma_entry *e = &ents[i];
		rs.n = 0;
		switch (e->kind) {
		case CREST_VMA_VVAR:
		case CREST_VMA_VVAR_VCLOCK:
		case CREST_VMA_VSYSCALL:
			continue;
		case CREST_VMA_VDSO:
			ret = ranges_add(&rs, v->start, v->end);
			break;
		default:
			if (v->vmflags & (CREST_VMF_IO | CREST_VMF_PF))
				continue;
			if (e->kind == CREST_VMA_SHMEM)
				ret = scan_object(pid, v, ctx->page_size, &rs, err);
			if (!ret && !v->shared)
				ret = scan_private(pagemap, pid, v->start, v->end, &rs, err);
			break;
		}
		if (ret < 0)
			goto out;
		ranges_normalize(&rs);
		for (size_t k = 0; k < rs.n; k++) {
			if (crest_grow(&plan->s, &plan->cap, plan->n + 1, sizeof(plan->s[0])) < 0) {
				ret = crest_err(err, ENOMEM, "pid %d: out of memory listing pages", pid);
				goto out;
			}
			struct crest_seg *s = &plan->s[plan->n++];
			memset(s, 0, sizeof(*s));
			s->start = rs.r[k][0];
			s->end = rs.r[k][1];
			s->vma = (uint32_t)i;
			s->prot = e->prot;
			e->stored += s->end - s->start;
			plan->total += s->end - s->start;
		}
	}
	log_debug(ctx, "pid %d: %zu segments, %lu bytes to store", pid, plan->n, (unsigned long)plan->total);
out:
	free(rs.r);
	if (ret < 0)
		crest_mem_plan_free(plan);
	return ret;
}

uint64_t crest_mem_layout(struct crest_mem_plan *plan, uint64_t data_off, long page_size)
{
	uint64_t off = ALIGN_UP(data_off, (uint64_t)page_size);
	for (size_t i = 0; i < plan->n; i++) {
		plan->s[i].off = off;
		off += plan->s[i].end - plan->s[i].start; /* page multiples already */
	}
	return off;
}

void crest_mem_plan_free(struct crest_mem_plan *plan)
{
	free(plan->s);
	memset(plan, 0, sizeof(*plan));
}

/* ---- copying ---------------------------------------------------------- */

/*
 * Measured here (1 GiB to tmpfs): writing through a shared mapping of the
 * output costs one fault per page even after MADV_POPULATE_WRITE (~0.5 GiB/s),
 * while process_vm_readv into a small buffer that stays in cache, hashing it
 * there, and handing it to a writer thread that pwrite()s it runs at ~5 GiB/s:
 * reading and writing overlap on the two cores.
 */
#define CHUNK (2u << 20)     /* bytes per buffer */
#define NBUF 4               /* buffers in flight */
#define MAX_IOV 1024
#define SEG_MAX (64ull << 20)  /* largest segment, bytes */

struct piece {
	uint64_t remote;
	size_t len;
	size_t seg;              /* input segment */
};

struct wbuf {
	uint8_t *data;
	struct iovec iov[CHUNK / 4096];
	int niov;
	uint64_t off;            /* file offset of the first byte */
	size_t len;              /* bytes in iov; 0 = end marker */
};

struct copier {
	struct crest_freezer *fz;
	int fd;
	size_t psz;
	const struct crest_mem_plan *in;
	const struct crest_vma_entry *ents;
	struct crest_mem_plan out;   /* the segments as stored */
	bool open;                   /* out.s[out.n - 1] still grows */
	uint64_t file_off;           /* where the next stored byte goes */
	XXH3_state_t *xs;            /* hash of the open output segment */
	struct piece p[MAX_IOV];
	size_t np;
	size_t batch_bytes;
	/* the writer thread */
	struct wbuf buf[NBUF];
	size_t next;             /* buffer the reader fills next */
	sem_t full, empty;
	int werr;                /* first pwrite error (-errno), set by the writer */
	pthread_t writer;
	bool writer_started;
};

static int pwritev_all(int fd, struct iovec *iov, int n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n > MAX_IOV ? MAX_IOV : n, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		off += w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct copier *c = arg;
	for (size_t k = 0;; k++) {
		while (sem_wait(&c->full) < 0)
			;
		struct wbuf *b = &c->buf[k % NBUF];
		if (!b->len) /* end marker */
			break;
		if (!__atomic_load_n(&c->werr, __ATOMIC_ACQUIRE)) {
			int r = pwritev_all(c->fd, b->iov, b->niov, (off_t)b->off);
			if (r < 0)
				__atomic_store_n(&c->werr, r, __ATOMIC_RELEASE);
		}
		sem_post(&c->empty);
	}
	return NULL;
}

/* True if the page holds only zero bytes (most data pages fail the first
 * word, so the common case is cheap). */
static bool page_is_zero(const uint8_t *p, size_t psz)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	for (size_t i = 0; i < psz / 8; i += 8) {
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	}
	return true;
}

static void close_out(struct copier *c)
{
	if (c->open) {
		c->out.s[c->out.n - 1].hash = XXH3_64bits_digest(c->xs);
		c->open = false;
	}
}

/*
 * Decide, page by page, what of the pieces just read is stored: in
 * mappings whose unstored bytes read as zero, a page of zeros is left out
 * (this kernel hands out real zeroed pages even for read faults, so such
 * pages are common).  Stored pages extend the open output segment or
 * start a new one; they are queued for the writer as iovecs.
 */
static int emit(struct copier *c, struct wbuf *b, crest_error **err)
{
	size_t lo = 0;
	b->niov = 0;
	b->len = 0;
	b->off = c->file_off;
	for (size_t k = 0; k < c->np; k++) {
		const struct piece *pc = &c->p[k];
		const struct crest_seg *in = &c->in->s[pc->seg];
		bool content = c->ents[in->vma].flags & CREST_VMA_F_CONTENT;
		for (size_t o = 0; o < pc->len; o += c->psz) {
			uint8_t *ptr = b->data + lo + o;
			uint64_t addr = pc->remote + o;
			if (content && page_is_zero(ptr, c->psz)) {
				close_out(c);
				continue;
			}
			struct crest_seg *cur = c->open ? &c->out.s[c->out.n - 1] : NULL;
			/* segments stop at SEG_MAX so that checking and restoring
			 * an image can spread them over both cores */
			if (!cur || cur->end != addr || cur->vma != in->vma || cur->end - cur->start >= SEG_MAX) {
				close_out(c);
				if (crest_grow(&c->out.s, &c->out.cap, c->out.n + 1, sizeof(c->out.s[0])) < 0)
					return crest_err(err, ENOMEM, "out of memory listing segments");
				cur = &c->out.s[c->out.n++];
				*cur = (struct crest_seg){.start = addr, .end = addr, .off = c->file_off,
							  .vma = in->vma, .prot = in->prot};
				XXH3_64bits_reset(c->xs);
				c->open = true;
			}
			cur->end += c->psz;
			XXH3_64bits_update(c->xs, ptr, c->psz);
			c->file_off += c->psz;
			c->out.total += c->psz;
			b->len += c->psz;
			struct iovec *last = b->niov ? &b->iov[b->niov - 1] : NULL;
			if (last && (uint8_t *)last->iov_base + last->iov_len == ptr)
				last->iov_len += c->psz;
			else
				b->iov[b->niov++] = (struct iovec){ptr, c->psz};
		}
		lo += pc->len;
	}
	return 0;
}

/* Read the pieces of the current batch into buffer `b`, back to back. */
static int fill(struct copier *c, struct wbuf *b, crest_error **err)
{
	struct iovec local[MAX_IOV], remote[MAX_IOV];
	size_t lo = 0;
	for (size_t i = 0; i < c->np; i++) {
		local[i].iov_base = b->data + lo;
		local[i].iov_len = c->p[i].len;
		remote[i].iov_base = (void *)(uintptr_t)c->p[i].remote;
		remote[i].iov_len = c->p[i].len;
		lo += c->p[i].len;
	}
	size_t i = 0;
	while (i < c->np) {
		ssize_t n = process_vm_readv(c->fz->pid, &local[i], c->np - i, &remote[i], c->np - i, 0);
		if (n < 0 && errno != EFAULT && errno != ENOMEM && errno != EPERM)
			return crest_err_sys(err, errno, "pid %d: process_vm_readv", c->fz->pid);
		if (n < 0)
			n = 0;
		while (i < c->np && (size_t)n >= c->p[i].len) { /* pieces read in full */
			n -= (ssize_t)c->p[i].len;
			i++;
		}
		if (i < c->np) {
			/* Piece i is not readable by the target itself (e.g.
			 * PROT_NONE): /proc/PID/mem reaches it. */
			int r = crest_target_read(c->fz, c->p[i].remote, local[i].iov_base, c->p[i].len);
			if (r < 0)
				return crest_err_sys(err, -r, "pid %d: reading memory at %#lx (%zu bytes)", c->fz->pid,
						     (unsigned long)c->p[i].remote, c->p[i].len);
			i++;
		}
	}
	return emit(c, b, err);
}

static int flush(struct copier *c, crest_error **err)
{
	if (!c->np)
		return 0;
	while (sem_wait(&c->empty) < 0)
		;
	int werr = __atomic_load_n(&c->werr, __ATOMIC_ACQUIRE);
	if (werr) {
		sem_post(&c->empty);
		return crest_err_sys(err, -werr, "writing the image file");
	}
	struct wbuf *b = &c->buf[c->next];
	int ret = fill(c, b, err);
	if (ret < 0) {
		sem_post(&c->empty);
		return ret;
	}
	c->np = 0;
	c->batch_bytes = 0;
	if (!b->len) { /* all zero: nothing to write, the buffer is free again */
		sem_post(&c->empty);
		return 0;
	}
	c->next = (c->next + 1) % NBUF;
	sem_post(&c->full);
	return 0;
}

/* Stop the writer after it has written everything queued; return its
 * first error. */
static int finish_writer(struct copier *c)
{
	if (!c->writer_started)
		return 0;
	while (sem_wait(&c->empty) < 0)
		;
	c->buf[c->next].len = 0; /* end marker */
	sem_post(&c->full);
	pthread_join(c->writer, NULL);
	c->writer_started = false;
	return __atomic_load_n(&c->werr, __ATOMIC_ACQUIRE);
}

int crest_mem_copy(crest_ctx *ctx, struct crest_freezer *fz, int fd, struct crest_mem_plan *plan,
		   struct crest_vma_entry *ents, size_t nents, volatile int *cancel, crest_error **err)
{
	struct copier *c = calloc(1, sizeof(*c));
	if (!c)
		return crest_err(err, ENOMEM, "allocating the copier");
	c->fz = fz;
	c->fd = fd;
	c->psz = (size_t)ctx->page_size;
	c->in = plan;
	c->ents = ents;
	c->file_off = (uint64_t)ctx->page_size; /* see crest_image_layout() */
	int ret = 0;
	for (int i = 0; i < NBUF; i++) {
		c->buf[i].data = malloc(CHUNK);
		if (!c->buf[i].data) {
			ret = crest_err(err, ENOMEM, "allocating copy buffers");
			goto out;
		}
	}
	c->xs = XXH3_createState();
	if (!c->xs) {
		ret = crest_err(err, ENOMEM, "allocating a hash state");
		goto out;
	}
	sem_init(&c->full, 0, 0);
	sem_init(&c->empty, 0, NBUF);
	if ((ret = pthread_create(&c->writer, NULL, writer_main, c)) != 0) {
		ret = crest_err(err, ret, "starting the writer thread: %s", strerror(ret));
		goto out;
	}
	c->writer_started = true;
	for (size_t s = 0; s < plan->n; s++) {
		const struct crest_seg *sg = &plan->s[s];
		uint64_t at = sg->start;
		while (at < sg->end) {
			if (cancel && *cancel) {
				ret = crest_err(err, ECANCELED, "dump of pid %d cancelled", fz->pid);
				goto out;
			}
			size_t room = CHUNK - c->batch_bytes;
			size_t len = sg->end - at < room ? (size_t)(sg->end - at) : room;
			c->p[c->np++] = (struct piece){.remote = at, .len = len, .seg = s};
			c->batch_bytes += len;
			at += len;
			if (c->np == MAX_IOV || c->batch_bytes == CHUNK) {
				ret = flush(c, err);
				if (ret < 0)
					goto out;
			}
		}
	}
	ret = flush(c, err);
	close_out(c);
out:;
	int werr = finish_writer(c);
	if (!ret && werr)
		ret = crest_err_sys(err, -werr, "writing the image file");
	if (!ret) {
		/* The segments as stored replace the plan. */
		for (size_t v = 0; v < nents; v++)
			ents[v].stored = 0;
		for (size_t i = 0; i < c->out.n; i++)
			ents[c->out.s[i].vma].stored += c->out.s[i].end - c->out.s[i].start;
		crest_mem_plan_free(plan);
		*plan = c->out;
	} else {
		crest_mem_plan_free(&c->out);
	}
	if (c->xs)
		XXH3_freeState(c->xs);
	for (int i = 0; i < NBUF; i++)
		free(c->buf[i].data);
	free(c);
	return ret;
}
