/*
 * image.h - building and reading the ELF core file that holds an image.
 */
#ifndef CREST_IMAGE_H
#define CREST_IMAGE_H

#include <elf.h>

#include "image_format.h"
#include "internal.h"
#include "mem.h"

/* ---- writing ---------------------------------------------------------- */

/* A growing buffer of ELF notes.  Allocation failures are remembered in
 * `err` (-ENOMEM) and reported once, by crest_image_finish(). */
struct crest_notes {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

/* Append one note (owner, type, desc) with the ELF padding rules. */
void crest_notes_add(struct crest_notes *nb, const char *owner, uint32_t type, const void *desc, size_t len);
void crest_notes_free(struct crest_notes *nb);

/* A table note being built: fixed-size entries plus a string table. */
struct crest_table {
	uint32_t entsize;
	uint8_t *ents;
	size_t n, cap;
	char *str;
	size_t slen, scap;
	int err;
	uint8_t sink[512];       /* handed out after an allocation failure */
};

void crest_table_init(struct crest_table *t, uint32_t entsize);
/* A new zeroed entry; the pointer is valid until the next add. */
void *crest_table_add(struct crest_table *t);
/* Offset of a copy of `s` in the string table (0 for NULL or ""). */
uint32_t crest_table_str(struct crest_table *t, const char *s);
/* Append the table as a CREST note of `type` and free it. */
void crest_notes_add_table(struct crest_notes *nb, uint32_t type, struct crest_table *t);
void crest_table_free(struct crest_table *t);

/*
 * Where things go in the file.  The ELF header is at 0; segment data starts
 * at one page and runs in segment order; the program headers, the notes and
 * the checksum note come after the data.  (ELF allows the program headers
 * anywhere: e_phoff says where.)  This way the page copy can decide the
 * segments as it goes, and the headers are written last.
 */
struct crest_layout {
	size_t phnum;            /* PT_NOTE + one PT_LOAD per segment */
	uint64_t data_off;       /* first segment: one page */
	uint64_t data_end;
	uint64_t ph_off;         /* program headers (and a section header for PN_XNUM) */
	uint64_t notes_off;      /* start of the PT_NOTE data */
	uint64_t csum_off;       /* start of the checksum note (its header) */
	uint64_t notes_end;      /* = file size */
	uint64_t file_size;
};

/* Compute the layout for `nb` (all notes but the checksum) and `plan`,
 * and give every segment its file offset (consecutive, from one page). */
void crest_image_layout(struct crest_layout *lay, const struct crest_notes *nb, struct crest_mem_plan *plan,
			long page_size);

/* Write the ELF header, program headers, notes and the checksum note
 * (segments must already be in the file, with their hashes in plan). */
int crest_image_write_head(int fd, const struct crest_layout *lay, const struct crest_notes *nb,
			   const struct crest_mem_plan *plan, long page_size, crest_error **err);

/* ---- reading ---------------------------------------------------------- */

struct crest_note_ref {
	const char *owner;
	uint32_t type;
	const uint8_t *desc;
	uint32_t len;
};

struct crest_image {
	crest_ctx *ctx;
	char *path;
	int fd;
	const uint8_t *map;
	size_t size;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	size_t phnum;
	struct crest_note_ref *notes;
	size_t nnotes;
	struct crest_meta meta;   /* copied: notes are only 4-byte aligned in the file */
	const char *meta_str;    /* string table of the META note */
	uint32_t meta_strsz;
};

/* A table note's parts, validated against the note's size. */
struct crest_table_view {
	uint32_t entsize, count;
	const uint8_t *ents;
	const char *str;
	uint32_t strsz;
};

/* Parse note `n` as a table whose entries are at least `min_entsize` bytes. */
int crest_table_view(const struct crest_note_ref *n, uint32_t min_entsize, struct crest_table_view *tv,
		     crest_error **err);
/* String at offset `off` of a table ("" if out of range). */
const char *crest_table_string(const struct crest_table_view *tv, uint32_t off);
/* The first note of the given owner/type, or NULL. */
const struct crest_note_ref *crest_image_find(const crest_image *img, const char *owner, uint32_t type);

#endif
