/*
 * image_read.c - opening an image: structure checks, format version and
 * every checksum, before anything else looks at it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "image.h"

static int corrupt(crest_error **err, const char *path, const char *what)
{
	return crest_err(err, EBADMSG, "image %s is damaged: %s; dump again or use another copy", path, what);
}

/* Walk the PT_NOTE segment and index every note. */
static int parse_notes(crest_image *img, const Elf64_Phdr *np, crest_error **err)
{
	const uint8_t *p = img->map + np->p_offset, *end = p + np->p_filesz;
	size_t cap = 0;
	while (p < end) {
		if ((size_t)(end - p) < sizeof(Elf64_Nhdr))
			return corrupt(err, img->path, "a note header is cut short");
		Elf64_Nhdr h;
		memcpy(&h, p, sizeof(h));
		size_t nsz = ALIGN_UP((size_t)h.n_namesz, 4), dsz = ALIGN_UP((size_t)h.n_descsz, 4);
		if (nsz > (size_t)(end - p) - sizeof(h) || dsz > (size_t)(end - p) - sizeof(h) - nsz)
			return corrupt(err, img->path, "a note runs past the note segment");
		if (crest_grow(&img->notes, &cap, img->nnotes + 1, sizeof(img->notes[0])) < 0)
			return crest_err(err, ENOMEM, "out of memory reading %s", img->path);
		const char *owner = (const char *)p + sizeof(h);
		if (h.n_namesz == 0 || owner[h.n_namesz - 1] != '\0')
			return corrupt(err, img->path, "a note's owner name is not terminated");
		img->notes[img->nnotes++] = (struct crest_note_ref){
			.owner = owner,
			.type = h.n_type,
			.desc = p + sizeof(h) + nsz,
			.len = h.n_descsz,
		};
		p += sizeof(h) + nsz + dsz;
	}
	return 0;
}

const struct crest_note_ref *crest_image_find(const crest_image *img, const char *owner, uint32_t type)
{
	for (size_t i = 0; i < img->nnotes; i++)
		if (img->notes[i].type == type && !strcmp(img->notes[i].owner, owner))
			return &img->notes[i];
	return NULL;
}

int crest_table_view(const struct crest_note_ref *n, uint32_t min_entsize, struct crest_table_view *tv,
		     crest_error **err)
{
	struct crest_table_hdr h;
	if (n->len < sizeof(h))
		return crest_err(err, EBADMSG, "crest note %#x is too short", n->type);
	memcpy(&h, n->desc, sizeof(h));
	uint64_t need = sizeof(h) + (uint64_t)h.entsize * h.count + h.strtab_size;
	if (h.entsize < min_entsize || need > n->len)
		return crest_err(err, EBADMSG, "crest note %#x has a bad table layout (entsize %u, count %u)", n->type,
				 h.entsize, h.count);
	tv->entsize = h.entsize;
	tv->count = h.count;
	tv->ents = n->desc + sizeof(h);
	tv->str = (const char *)tv->ents + (size_t)h.entsize * h.count;
	tv->strsz = h.strtab_size;
	if (tv->strsz && tv->str[tv->strsz - 1] != '\0')
		return crest_err(err, EBADMSG, "crest note %#x: string table not terminated", n->type);
	return 0;
}

const char *crest_table_string(const struct crest_table_view *tv, uint32_t off)
{
	return off < tv->strsz ? tv->str + off : "";
}

struct seg_check {
	crest_image *img;
	const uint8_t *desc;     /* seg_hash[] in the checksum note */
	size_t first, step;      /* segments first, first+step, ... */
	int err;                 /* errno of a failed read */
	size_t bad;              /* first segment that does not match */
};

static void *check_segs(void *arg)
{
	struct seg_check *c = arg;
	crest_image *img = c->img;
	const size_t bsz = 2u << 20;
	c->bad = SIZE_MAX;
	uint8_t *buf = malloc(bsz);
	XXH3_state_t *ss = XXH3_createState();
	if (!buf || !ss) {
		c->err = ENOMEM;
		goto out;
	}
	for (size_t i = c->first; i < img->phnum - 1 && !c->err && c->bad == SIZE_MAX; i += c->step) {
		const Elf64_Phdr *p = &img->ph[1 + i];
		uint64_t h;
		memcpy(&h, c->desc + 8 * i, 8);
		XXH3_64bits_reset(ss);
		for (uint64_t o = 0; o < p->p_filesz;) {
			size_t n = p->p_filesz - o < bsz ? (size_t)(p->p_filesz - o) : bsz;
			ssize_t got = pread(img->fd, buf, n, (off_t)(p->p_offset + o));
			if (got <= 0) {
				c->err = got < 0 ? errno : EIO;
				break;
			}
			XXH3_64bits_update(ss, buf, (size_t)got);
			o += (uint64_t)got;
		}
		if (!c->err && XXH3_64bits_digest(ss) != h)
			c->bad = i;
	}
out:
	XXH3_freeState(ss);
	free(buf);
	return NULL;
}

/* Check the checksum note against the file. */
static int verify(crest_image *img, crest_error **err)
{
	const struct crest_note_ref *cn = &img->notes[img->nnotes - 1];
	if (cn->type != CREST_NT_CHECKSUM || strcmp(cn->owner, CREST_NOTE_OWNER))
		return corrupt(err, img->path, "the checksum note is missing (the file may be cut short)");
	size_t nseg = img->phnum - 1;
	if (cn->len != sizeof(struct crest_checksum) + 8 * nseg + 8)
		return corrupt(err, img->path, "the checksum note does not match the number of segments");
	struct crest_checksum ck;
	memcpy(&ck, cn->desc, sizeof(ck));
	uint64_t self;
	memcpy(&self, cn->desc + cn->len - 8, 8);
	if (XXH3_64bits(cn->desc, cn->len - 8) != self)
		return corrupt(err, img->path, "checksum mismatch in the checksum note");
	if (ck.algo != CREST_CSUM_XXH3_64 || ck.nseg != nseg)
		return corrupt(err, img->path, "unknown checksum algorithm or segment count");
	uint64_t cn_off = (uint64_t)((const uint8_t *)cn->desc - img->map) - sizeof(Elf64_Nhdr) -
			  ALIGN_UP(sizeof(CREST_NOTE_OWNER), 4);
	if (ck.head_len != cn_off)
		return corrupt(err, img->path, "the checksum note is not where its header says");
	if (img->eh->e_phoff < sizeof(Elf64_Ehdr) || img->eh->e_phoff > ck.head_len)
		return corrupt(err, img->path, "the program headers are not where the checksum note says");
	XXH3_state_t *xs = XXH3_createState();
	if (!xs)
		return crest_err(err, ENOMEM, "allocating a hash state");
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, img->map, sizeof(Elf64_Ehdr));
	XXH3_64bits_update(xs, img->map + img->eh->e_phoff, ck.head_len - img->eh->e_phoff);
	uint64_t head = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	if (head != ck.head_hash)
		return corrupt(err, img->path, "checksum mismatch in the headers or notes");
	/* Segments are hashed on two threads, each reading with pread() into
	 * a small buffer and hashing there, not through the mapping: measured
	 * here, the first user-space touch of each page of a fresh mapping
	 * costs more than hashing it (~0.45 s per GiB), while the kernel's
	 * copy into a buffer that stays in cache does not. */
	struct seg_check sc[2] = {{.img = img, .desc = cn->desc + sizeof(ck), .step = 2, .first = 0, .bad = SIZE_MAX},
				  {.img = img, .desc = cn->desc + sizeof(ck), .step = 2, .first = 1, .bad = SIZE_MAX}};
	pthread_t t;
	bool two = nseg > 1 && pthread_create(&t, NULL, check_segs, &sc[1]) == 0;
	if (!two)
		sc[0].step = 1;
	check_segs(&sc[0]);
	if (two)
		pthread_join(t, NULL);
	for (int k = 0; k < 2; k++) {
		if (sc[k].err == ENOMEM)
			return crest_err(err, ENOMEM, "allocating a buffer to check %s", img->path);
		if (sc[k].err)
			return crest_err_sys(err, sc[k].err, "reading %s", img->path);
	}
	size_t bad = SIZE_MAX;
	for (int k = 0; k < 2; k++)
		if (sc[k].bad < bad)
			bad = sc[k].bad;
	if (bad != SIZE_MAX) {
		const Elf64_Phdr *p = &img->ph[1 + bad];
		char what[160];
		snprintf(what, sizeof(what), "checksum mismatch in the memory of %#lx-%#lx (segment %zu)",
			 (unsigned long)p->p_vaddr, (unsigned long)(p->p_vaddr + p->p_memsz), bad);
		return corrupt(err, img->path, what);
	}
	return 0;
}

int crest_image_open(crest_ctx *ctx, const char *path, crest_image **out, crest_error **err)
{
	struct stat st;
	cleanup_free char *file = NULL;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (asprintf(&file, "%s/%s", path, CREST_IMAGE_FILE) < 0)
			return crest_err(err, ENOMEM, "out of memory");
	} else {
		file = strdup(path);
		if (!file)
			return crest_err(err, ENOMEM, "out of memory");
	}
	crest_image *img = calloc(1, sizeof(*img));
	if (!img)
		return crest_err(err, ENOMEM, "out of memory");
	img->ctx = ctx;
	img->fd = -1;
	img->path = steal_ptr(file);
	int ret;
	img->fd = open(img->path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		ret = errno == ENOENT
			      ? crest_err(err, ENOENT, "no image at %s (expected %s inside the directory given to crest dump -o)",
					  img->path, CREST_IMAGE_FILE)
			      : crest_err_sys(err, errno, "cannot open image %s", img->path);
		goto fail;
	}
	if (fstat(img->fd, &st) < 0) {
		ret = crest_err_sys(err, errno, "fstat of %s", img->path);
		goto fail;
	}
	img->size = (size_t)st.st_size;
	if (img->size < sizeof(Elf64_Ehdr)) {
		ret = corrupt(err, img->path, "the file is too short to be an image (truncated?)");
		goto fail;
	}
	void *m = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, img->fd, 0);
	if (m == MAP_FAILED) {
		ret = crest_err_sys(err, errno, "cannot map image %s", img->path);
		goto fail;
	}
	img->map = m;
	img->eh = (const Elf64_Ehdr *)img->map;
	const Elf64_Ehdr *eh = img->eh;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_CORE) {
		ret = crest_err(err, EINVAL, "%s is not an ELF64 core file, so not a crest image", img->path);
		goto fail;
	}
	if (eh->e_machine != EM_X86_64) {
		ret = crest_err(err, EINVAL, "%s was written for another architecture (e_machine %u); this crest reads x86-64 images",
				img->path, eh->e_machine);
		goto fail;
	}
	/* Offsets come from the file: check them without overflow, and keep
	 * them aligned so the headers can be read in place. */
	img->phnum = eh->e_phnum;
	if (eh->e_phnum == PN_XNUM) {
		if (eh->e_shoff % 8 || eh->e_shoff > img->size || sizeof(Elf64_Shdr) > img->size - eh->e_shoff) {
			ret = corrupt(err, img->path, "the file is truncated or its section header offset is wrong");
			goto fail;
		}
		Elf64_Shdr sh;
		memcpy(&sh, img->map + eh->e_shoff, sizeof(sh));
		img->phnum = sh.sh_info;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || img->phnum < 1 || eh->e_phoff % 8) {
		ret = corrupt(err, img->path, "the program header table is malformed");
		goto fail;
	}
	if (eh->e_phoff > img->size || img->phnum > (img->size - eh->e_phoff) / sizeof(Elf64_Phdr)) {
		char what[160];
		snprintf(what, sizeof(what),
			 "the file is truncated: its program headers (at offset %lu) run past its end (%zu bytes)",
			 (unsigned long)eh->e_phoff, img->size);
		ret = corrupt(err, img->path, what);
		goto fail;
	}
	img->ph = (const Elf64_Phdr *)(img->map + eh->e_phoff);
	for (size_t i = 0; i < img->phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_offset > img->size || p->p_filesz > img->size - p->p_offset) {
			char what[128];
			snprintf(what, sizeof(what), "the file is truncated: it has %zu bytes, segment %zu needs %lu",
				 img->size, i, (unsigned long)(p->p_offset + p->p_filesz));
			ret = corrupt(err, img->path, what);
			goto fail;
		}
		if (i > 0 && p->p_type != PT_LOAD) {
			ret = corrupt(err, img->path, "unexpected program header type");
			goto fail;
		}
	}
	if (img->ph[0].p_type != PT_NOTE) {
		ret = corrupt(err, img->path, "the first program header is not the notes");
		goto fail;
	}
	ret = parse_notes(img, &img->ph[0], err);
	if (ret < 0)
		goto fail;
	const struct crest_note_ref *mn = crest_image_find(img, CREST_NOTE_OWNER, CREST_NT_META);
	if (!mn) {
		ret = crest_err(err, EINVAL, "%s is a core file but not a crest image (no CREST notes)", img->path);
		goto fail;
	}
	/* The version comes before the checksum: a newer format may checksum differently. */
	struct crest_table_view tv;
	if (crest_table_view(mn, 4, &tv, NULL) < 0 || tv.count != 1) {
		ret = corrupt(err, img->path, "the META note is malformed");
		goto fail;
	}
	uint32_t ver;
	memcpy(&ver, tv.ents, 4);
	if (ver > CREST_IMAGE_VERSION) {
		ret = crest_err(err, EPROTONOSUPPORT,
				"image %s has format version %u, written by a newer crest; this crest (%s) reads up to version %u: upgrade crest",
				img->path, ver, CREST_VERSION_STRING, CREST_IMAGE_VERSION);
		goto fail;
	}
	if (tv.entsize < sizeof(struct crest_meta)) {
		ret = corrupt(err, img->path, "the META note is too short");
		goto fail;
	}
	ret = verify(img, err);
	if (ret < 0)
		goto fail;
	memcpy(&img->meta, tv.ents, sizeof(img->meta));
	img->meta_str = tv.str;
	img->meta_strsz = tv.strsz;
	*out = img;
	return 0;
fail:
	crest_image_close(img);
	return ret;
}

void crest_image_close(crest_image *img)
{
	if (!img)
		return;
	if (img->map)
		munmap((void *)img->map, img->size);
	if (img->fd >= 0)
		close(img->fd);
	free(img->notes);
	free(img->path);
	free(img);
}
