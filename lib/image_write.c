/*
 * image_write.c - building the notes and headers of an image file.
 */
#include <xxhash.h>

#include "image.h"

static int nb_reserve(struct crest_notes *nb, size_t more)
{
	if (nb->err)
		return nb->err;
	if (crest_grow(&nb->buf, &nb->cap, nb->len + more, 1) < 0)
		nb->err = -ENOMEM;
	return nb->err;
}

void crest_notes_add(struct crest_notes *nb, const char *owner, uint32_t type, const void *desc, size_t len)
{
	size_t namesz = strlen(owner) + 1;
	size_t total = sizeof(Elf64_Nhdr) + ALIGN_UP(namesz, 4) + ALIGN_UP(len, 4);
	if (len > UINT32_MAX) {
		nb->err = -E2BIG;
		return;
	}
	if (nb_reserve(nb, total))
		return;
	uint8_t *p = nb->buf + nb->len;
	memset(p, 0, total);
	Elf64_Nhdr h = {.n_namesz = (Elf64_Word)namesz, .n_descsz = (Elf64_Word)len, .n_type = type};
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), owner, namesz);
	if (len)
		memcpy(p + sizeof(h) + ALIGN_UP(namesz, 4), desc, len);
	nb->len += total;
}

void crest_notes_free(struct crest_notes *nb)
{
	free(nb->buf);
	memset(nb, 0, sizeof(*nb));
}

/* The largest entry any table holds must fit the sink. */
_Static_assert(sizeof(struct crest_process) <= sizeof(((struct crest_table *)0)->sink), "table sink too small");

void crest_table_init(struct crest_table *t, uint32_t entsize)
{
	memset(t, 0, sizeof(*t));
	t->entsize = entsize;
}

void *crest_table_add(struct crest_table *t)
{
	if (!t->err && crest_grow(&t->ents, &t->cap, t->n + 1, t->entsize) < 0)
		t->err = -ENOMEM;
	if (t->err) {
		/* keep callers simple; the error is reported later.  Per table,
		 * so that dumps on several threads (crestd) never share it. */
		memset(t->sink, 0, sizeof(t->sink));
		return t->sink;
	}
	void *e = t->ents + t->n * t->entsize;
	memset(e, 0, t->entsize);
	t->n++;
	return e;
}

uint32_t crest_table_str(struct crest_table *t, const char *s)
{
	if (!s || !*s || t->err)
		return 0;
	size_t l = strlen(s) + 1;
	size_t need = (t->slen ? t->slen : 1) + l;
	if (crest_grow(&t->str, &t->scap, need, 1) < 0) {
		t->err = -ENOMEM;
		return 0;
	}
	if (!t->slen)
		t->str[t->slen++] = '\0'; /* offset 0: the empty string */
	uint32_t off = (uint32_t)t->slen;
	memcpy(t->str + t->slen, s, l);
	t->slen += l;
	return off;
}

void crest_notes_add_table(struct crest_notes *nb, uint32_t type, struct crest_table *t)
{
	if (t->err) {
		nb->err = t->err;
		crest_table_free(t);
		return;
	}
	struct crest_table_hdr h = {
		.version = CREST_IMAGE_VERSION,
		.entsize = t->entsize,
		.count = (uint32_t)t->n,
		.strtab_size = (uint32_t)t->slen,
	};
	size_t body = t->n * t->entsize;
	size_t len = sizeof(h) + body + t->slen;
	uint8_t *d = malloc(len ? len : 1);
	if (!d) {
		nb->err = -ENOMEM;
		crest_table_free(t);
		return;
	}
	memcpy(d, &h, sizeof(h));
	if (body)
		memcpy(d + sizeof(h), t->ents, body);
	if (t->slen)
		memcpy(d + sizeof(h) + body, t->str, t->slen);
	crest_notes_add(nb, CREST_NOTE_OWNER, type, d, len);
	free(d);
	crest_table_free(t);
}

void crest_table_free(struct crest_table *t)
{
	free(t->ents);
	free(t->str);
	t->ents = NULL;
	t->str = NULL;
	t->n = t->cap = t->slen = t->scap = 0;
}

static size_t csum_desc_size(size_t nseg)
{
	return sizeof(struct crest_checksum) + 8 * nseg + 8;
}

static size_t csum_note_size(size_t nseg)
{
	return sizeof(Elf64_Nhdr) + ALIGN_UP(sizeof(CREST_NOTE_OWNER), 4) + ALIGN_UP(csum_desc_size(nseg), 4);
}

void crest_image_layout(struct crest_layout *lay, const struct crest_notes *nb, struct crest_mem_plan *plan,
			long page_size)
{
	lay->phnum = 1 + plan->n;
	lay->data_off = (uint64_t)page_size;
	lay->data_end = crest_mem_layout(plan, lay->data_off, page_size);
	lay->ph_off = ALIGN_UP(lay->data_end, 8);
	lay->notes_off = lay->ph_off + lay->phnum * sizeof(Elf64_Phdr) +
			 (lay->phnum >= PN_XNUM ? sizeof(Elf64_Shdr) : 0);
	lay->csum_off = lay->notes_off + nb->len;
	lay->notes_end = lay->csum_off + csum_note_size(plan->n);
	lay->file_size = lay->notes_end;
}

static uint32_t prot_to_pflags(uint32_t prot)
{
	return ((prot & 1) ? PF_R : 0) | ((prot & 2) ? PF_W : 0) | ((prot & 4) ? PF_X : 0);
}

int crest_image_write_head(int fd, const struct crest_layout *lay, const struct crest_notes *nb,
			   const struct crest_mem_plan *plan, long page_size, crest_error **err)
{
	if (nb->err)
		return crest_err(err, -nb->err, "building the image notes: %s", strerror(-nb->err));
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = lay->ph_off;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);

	/* Everything after the data, in one buffer: phdrs, notes, checksum. */
	size_t total = (size_t)(lay->notes_end - lay->ph_off);
	cleanup_free uint8_t *buf = calloc(1, total);
	if (!buf)
		return crest_err(err, ENOMEM, "allocating the image headers (%zu bytes)", total);
	if (lay->phnum >= PN_XNUM) {
		/* Too many segments for e_phnum: the real count goes into
		 * section header 0 (the ELF extended numbering). */
		eh.e_phnum = PN_XNUM;
		eh.e_shoff = lay->ph_off + lay->phnum * sizeof(Elf64_Phdr);
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 1;
		Elf64_Shdr sh = {.sh_info = (Elf64_Word)lay->phnum};
		memcpy(buf + (eh.e_shoff - lay->ph_off), &sh, sizeof(sh));
	} else {
		eh.e_phnum = (Elf64_Half)lay->phnum;
	}

	Elf64_Phdr ph = {
		.p_type = PT_NOTE,
		.p_offset = lay->notes_off,
		.p_filesz = lay->notes_end - lay->notes_off,
		.p_align = 4,
	};
	memcpy(buf, &ph, sizeof(ph));
	for (size_t i = 0; i < plan->n; i++) {
		const struct crest_seg *s = &plan->s[i];
		ph = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = prot_to_pflags(s->prot),
			.p_offset = s->off,
			.p_vaddr = s->start,
			.p_filesz = s->end - s->start,
			.p_memsz = s->end - s->start,
			.p_align = (uint64_t)page_size,
		};
		memcpy(buf + (1 + i) * sizeof(ph), &ph, sizeof(ph));
	}
	memcpy(buf + (lay->notes_off - lay->ph_off), nb->buf, nb->len);

	/* The checksum note, last.  head_hash covers the ELF header and every
	 * byte from e_phoff up to this note. */
	uint8_t *cn = buf + (lay->csum_off - lay->ph_off);
	Elf64_Nhdr nh = {.n_namesz = sizeof(CREST_NOTE_OWNER),
			 .n_descsz = (Elf64_Word)csum_desc_size(plan->n),
			 .n_type = CREST_NT_CHECKSUM};
	memcpy(cn, &nh, sizeof(nh));
	memcpy(cn + sizeof(nh), CREST_NOTE_OWNER, sizeof(CREST_NOTE_OWNER));
	uint8_t *desc = cn + sizeof(nh) + ALIGN_UP(sizeof(CREST_NOTE_OWNER), 4);
	XXH3_state_t *xs = XXH3_createState();
	if (!xs)
		return crest_err(err, ENOMEM, "allocating a hash state");
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, &eh, sizeof(eh));
	XXH3_64bits_update(xs, buf, lay->csum_off - lay->ph_off);
	struct crest_checksum ck = {
		.algo = CREST_CSUM_XXH3_64,
		.nseg = (uint32_t)plan->n,
		.head_len = lay->csum_off,
		.head_hash = XXH3_64bits_digest(xs),
	};
	XXH3_freeState(xs);
	memcpy(desc, &ck, sizeof(ck));
	for (size_t i = 0; i < plan->n; i++)
		memcpy(desc + sizeof(ck) + 8 * i, &plan->s[i].hash, 8);
	size_t self_len = sizeof(ck) + 8 * plan->n;
	uint64_t self = XXH3_64bits(desc, self_len);
	memcpy(desc + self_len, &self, 8);

	int r = crest_pwrite_all(fd, buf, total, (off_t)lay->ph_off);
	if (r == 0)
		r = crest_pwrite_all(fd, &eh, sizeof(eh), 0);
	if (r < 0)
		return crest_err_sys(err, -r, "writing the image headers");
	return 0;
}
