/*
 * mem.h - which pages of a frozen process to store, and copying them into
 * the image file.
 */
#ifndef CREST_MEM_H
#define CREST_MEM_H

#include "freeze.h"
#include "image_format.h"
#include "proc.h"

/* One run of stored bytes: target [start, end) at file offset `off`. */
struct crest_seg {
	uint64_t start, end;
	uint64_t off;
	uint32_t vma;            /* index into the mapping table */
	uint32_t prot;
	uint64_t hash;           /* XXH3-64 of the contents, set by crest_mem_copy() */
};

struct crest_mem_plan {
	struct crest_seg *s;
	size_t n, cap;
	uint64_t total;          /* sum of segment sizes */
};

/*
 * Fill the on-disk entry of every mapping in `vmas`: kind, flags,
 * protection, file identity (size, mtime).  `out` has vmas->n entries;
 * path offsets are left to the caller.
 */
int crest_mem_classify(crest_ctx *ctx, pid_t pid, const struct crest_proc_vmas *vmas,
		       struct crest_vma_entry *out, crest_error **err);

/*
 * Decide which bytes of each mapping the image stores (see mem.c for the
 * rules) and build the segment list, in address order.  Sets `stored` in
 * each entry.
 */
int crest_mem_scan(crest_ctx *ctx, pid_t pid, const struct crest_proc_vmas *vmas,
		   struct crest_vma_entry *ents, struct crest_mem_plan *plan, crest_error **err);

/* Give every segment its file offset, starting at `data_off`, each
 * page-aligned.  Returns the end of the last segment. */
uint64_t crest_mem_layout(struct crest_mem_plan *plan, uint64_t data_off, long page_size);

/*
 * Copy every segment from the frozen process into `fd` and hash it.  Data
 * goes to consecutive offsets from one page on (the layout of
 * crest_image_layout()).  In mappings with CREST_VMA_F_CONTENT a page of
 * zeros is not stored.  On success `plan` is replaced by the segments as
 * stored (offsets and hashes set) and ents[].stored is updated.  Stops
 * with -ECANCELED when *cancel becomes non-zero.
 */
int crest_mem_copy(crest_ctx *ctx, struct crest_freezer *fz, int fd, struct crest_mem_plan *plan,
		   struct crest_vma_entry *ents, size_t nents, volatile int *cancel, crest_error **err);

void crest_mem_plan_free(struct crest_mem_plan *plan);

#endif
