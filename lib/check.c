/*
 * check.c - crest_image_check(): can this image be restored here?  The
 * checks restore runs before it creates anything, available on their own
 * (`crest check`).
 */
#include <cpuid.h>
#include <sys/stat.h>

#include "image.h"

/* XCR0 of this CPU and kernel (0 if XSAVE is not enabled). */
static uint64_t this_xcr0(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* Every file the image maps must still be the file that was mapped. */
static int check_files(crest_image *img, crest_error **err)
{
	const struct crest_note_ref *n = crest_image_find(img, CREST_NOTE_OWNER, CREST_NT_VMAS);
	if (!n)
		return crest_err(err, EBADMSG, "image %s has no mapping table", img->path);
	struct crest_table_view tv;
	int ret = crest_table_view(n, sizeof(struct crest_vma_entry), &tv, err);
	if (ret < 0)
		return ret;
	uint32_t last_path = 0;
	for (uint32_t i = 0; i < tv.count; i++) {
		struct crest_vma_entry e;
		memcpy(&e, tv.ents + (size_t)i * tv.entsize, sizeof(e));
		if (e.kind != CREST_VMA_FILE || e.path == last_path)
			continue; /* consecutive mappings of one file: checked once */
		last_path = e.path;
		const char *path = crest_table_string(&tv, e.path);
		struct stat st;
		if (stat(path, &st) < 0)
			return crest_err_sys(err, errno,
					     "image %s maps %s, which cannot be found now; restore needs the same file at the same path",
					     img->path, path);
		int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
		if ((uint64_t)st.st_size != e.file_size || mtime != e.file_mtime_ns)
			return crest_err(err, ESTALE,
					 "image %s maps %s, which has changed since the dump (size %lu then, %lu now; mtime %s): restore would map different bytes; put the original file back",
					 img->path, path, (unsigned long)e.file_size, (unsigned long)st.st_size,
					 mtime == e.file_mtime_ns ? "same" : "differs");
	}
	return 0;
}

int crest_image_check(crest_image *img, crest_error **err)
{
	uint64_t have = this_xcr0();
	uint64_t need = img->meta.xcr0;
	if (need & ~have)
		return crest_err(err, ENOTSUP,
				 "image %s holds CPU register state this machine cannot load: XSAVE features %#lx were enabled where it was taken, this CPU/kernel enables %#lx (missing %#lx); restore it on a machine with the same CPU features",
				 img->path, (unsigned long)need, (unsigned long)have, (unsigned long)(need & ~have));
	return check_files(img, err);
}
