/*
 * proc.c - parsers for the /proc files crest reads (see proc.h).
 *
 * The parsers work on the whole text of one file and never touch /proc;
 * the crest_proc_read_* helpers read the live file and name its path in
 * every message.  Numbers are parsed by hand rather than with strtoul(),
 * which would accept signs, "0x" prefixes and leading blanks that the
 * kernel never writes and that would hide a misparse.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "proc.h"

/* Longest excerpt of an offending line quoted in an error message. */
#define EXCERPT_MAX 100
#define EXCERPT(s, len) (int)((len) > EXCERPT_MAX ? EXCERPT_MAX : (len)), (s)

#define DELETED_SUFFIX " (deleted)"

/* ---- small text helpers ------------------------------------------------ */

/* One line of a text: [s, s + len), without its '\n'; no is 1-based. */
struct line {
	const char *s;
	size_t len;
	size_t no;
};

/* Step *pos to the next line of a NUL-terminated text and describe it in
 * *ln.  Returns false at the end of the text.  A last line without '\n'
 * counts; nothing after a final '\n' does. */
static bool next_line(const char **pos, struct line *ln)
{
	const char *p = *pos;
	if (!*p)
		return false;
	const char *nl = strchr(p, '\n');
	size_t len = nl ? (size_t)(nl - p) : strlen(p);
	ln->s = p;
	ln->len = len;
	ln->no++;
	*pos = nl ? nl + 1 : p + len;
	return true;
}

/* True for the blanks /proc files use between fields. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Advance *p over blanks, not beyond end. */
static void skip_blanks(const char **p, const char *end)
{
	while (*p < end && is_blank(**p))
		(*p)++;
}

/* Advance *p over at least one blank; false if there is none. */
static bool need_blanks(const char **p, const char *end)
{
	if (*p >= end || !is_blank(**p))
		return false;
	skip_blanks(p, end);
	return true;
}

/* Shrink [s, *end) from the right over blanks and '\r'. */
static void trim_right(const char *s, const char **end)
{
	while (*end > s && (is_blank((*end)[-1]) || (*end)[-1] == '\r'))
		(*end)--;
}

/* The value of a hex digit, -1 for anything else. */
static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse an unsigned number in `base` (8, 10 or 16) at *p, before end: at
 * least one digit, no sign, no prefix.  On success advance *p past the
 * digits; false (and *p unchanged) if there is no digit or it overflows. */
static bool parse_u64(const char **p, const char *end, unsigned base, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	while (s < end) {
		int d = digit_value(*s);
		if (d < 0 || (unsigned)d >= base)
			break;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return false;
		v = v * base + (unsigned)d;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* Like parse_u64() for a decimal with an optional '-', within int64_t. */
static bool parse_i64(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	bool neg = s < end && *s == '-';
	if (neg)
		s++;
	uint64_t v;
	if (!parse_u64(&s, end, 10, &v))
		return false;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	*p = s;
	return true;
}

/* Parse all of [s, end) (blanks around it allowed) as one unsigned number
 * no larger than max. */
static bool parse_whole_u64(const char *s, const char *end, unsigned base, uint64_t max, uint64_t *out)
{
	skip_blanks(&s, end);
	trim_right(s, &end);
	uint64_t v;
	if (!parse_u64(&s, end, base, &v) || s != end || v > max)
		return false;
	*out = v;
	return true;
}

/* Parse all of [s, end) (blanks around it allowed) as a decimal in [min, max]. */
static bool parse_whole_i64(const char *s, const char *end, int64_t min, int64_t max, int64_t *out)
{
	skip_blanks(&s, end);
	trim_right(s, &end);
	int64_t v;
	if (!parse_i64(&s, end, &v) || s != end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Split a "Key: value" line at its first ':'.  False if there is none. */
static bool split_key(const struct line *ln, const char **key_end, const char **val, const char **val_end)
{
	const char *colon = memchr(ln->s, ':', ln->len);
	if (!colon)
		return false;
	*key_end = colon;
	*val = colon + 1;
	*val_end = ln->s + ln->len;
	skip_blanks(val, *val_end);
	trim_right(*val, val_end);
	return true;
}

/* True if the key [s, key_end) is exactly `name`. */
static bool key_is(const char *s, const char *key_end, const char *name)
{
	size_t n = strlen(name);
	return (size_t)(key_end - s) == n && memcmp(s, name, n) == 0;
}

/* ---- maps ---------------------------------------------------------------- */

/* A line is a mapping header (maps line, or the first line of an smaps
 * entry) iff it starts with hex digits followed by '-'.  Field lines of
 * smaps start with a capitalised name, which never has a '-' there. */
static bool is_vma_header(const struct line *ln)
{
	const char *p = ln->s, *end = ln->s + ln->len;
	uint64_t v;
	return parse_u64(&p, end, 16, &v) && p < end && *p == '-';
}

/* Parse one maps line into *v, except the path, which is returned as
 * [*path, *path + *path_len) (length 0 for none) with " (deleted)"
 * already removed and v->deleted set.  Returns NULL on success or a
 * description of the part that does not parse. */
static const char *parse_vma_line(const struct line *ln, struct crest_proc_vma *v, const char **path,
				  size_t *path_len)
{
	const char *p = ln->s, *end = ln->s + ln->len;
	uint64_t n;

	memset(v, 0, sizeof(*v));
	if (!parse_u64(&p, end, 16, &v->start) || p >= end || *p != '-')
		return "the start address";
	p++;
	if (!parse_u64(&p, end, 16, &v->end) || !need_blanks(&p, end))
		return "the end address";
	if (v->end < v->start)
		return "the address range (the end is below the start)";

	if (end - p < 4 || (p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's'))
		return "the permissions (expected four characters like \"rw-p\")";
	v->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
	v->shared = p[3] == 's';
	p += 4;
	if (!need_blanks(&p, end))
		return "the permissions (expected four characters like \"rw-p\")";

	if (!parse_u64(&p, end, 16, &v->pgoff) || !need_blanks(&p, end))
		return "the offset";

	if (!parse_u64(&p, end, 16, &n) || n > UINT32_MAX || p >= end || *p != ':')
		return "the device (expected MAJOR:MINOR in hex)";
	v->dev_major = (uint32_t)n;
	p++;
	if (!parse_u64(&p, end, 16, &n) || n > UINT32_MAX)
		return "the device (expected MAJOR:MINOR in hex)";
	v->dev_minor = (uint32_t)n;
	if (!need_blanks(&p, end))
		return "the device (expected MAJOR:MINOR in hex)";

	if (!parse_u64(&p, end, 10, &v->ino) || (p < end && !is_blank(*p)))
		return "the inode";

	/* The path is everything after the inode's padding, trailing
	 * blanks included (they are part of the file name).  Every path the
	 * kernel shows starts with '/', '[' or a pseudo-fs prefix, never
	 * with a blank, so skipping the padding loses nothing. */
	skip_blanks(&p, end);
	size_t len = (size_t)(end - p);
	size_t sl = strlen(DELETED_SUFFIX);
	if (len > sl && memcmp(end - sl, DELETED_SUFFIX, sl) == 0) {
		v->deleted = true;
		len -= sl;
	}
	*path = p;
	*path_len = len;
	return NULL;
}

/* Free the paths of the first n vmas and the array. */
static void free_vma_array(struct crest_proc_vma *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* Collect the mapping lines of `text` into *out.  With from_smaps, the
 * field lines of smaps between the headers are skipped (parse_smaps()
 * checks them); otherwise every non-empty line must be a mapping.  `name`
 * names the file in messages. */
static int collect_vmas(const char *text, const char *name, bool from_smaps, struct crest_proc_vmas *out,
			crest_error **err)
{
	struct crest_proc_vma *arr = NULL;
	size_t n = 0, cap = 0;
	struct line ln = {0};
	const char *pos = text;
	int ret;

	out->v = NULL;
	out->n = 0;
	while (next_line(&pos, &ln)) {
		if (ln.len == 0)
			continue;
		if (from_smaps && !is_vma_header(&ln))
			continue;
		struct crest_proc_vma v;
		const char *path;
		size_t path_len;
		const char *bad = parse_vma_line(&ln, &v, &path, &path_len);
		if (bad) {
			ret = crest_err(err, EINVAL,
					"%s line %zu: cannot parse %s in \"%.*s\"; expected \"START-END PERMS OFFSET MAJOR:MINOR INODE [PATH]\" as proc(5) describes",
					name, ln.no, bad, EXCERPT(ln.s, ln.len));
			goto fail;
		}
		if (path_len) {
			v.path = strndup(path, path_len);
			if (!v.path) {
				ret = crest_err(err, ENOMEM, "%s line %zu: out of memory copying the path", name, ln.no);
				goto fail;
			}
		}
		if (crest_grow(&arr, &cap, n + 1, sizeof(*arr)) < 0) {
			free(v.path);
			ret = crest_err(err, ENOMEM, "%s line %zu: out of memory for %zu mappings", name, ln.no, n + 1);
			goto fail;
		}
		arr[n++] = v;
	}
	out->v = arr;
	out->n = n;
	return 0;
fail:
	free_vma_array(arr, n);
	return ret;
}

/* Parse the text of /proc/PID/maps into out->v (malloc'd, out->n entries,
 * in file order).  Returns 0, or -EINVAL naming the line that does not
 * parse (out is then empty).  Release with crest_proc_vmas_free(). */
int crest_proc_parse_maps(const char *text, struct crest_proc_vmas *out, crest_error **err)
{
	return collect_vmas(text, "maps", false, out, err);
}

/* Free the paths and the array of *vmas and leave it empty; safe to call
 * on an empty or already freed set. */
void crest_proc_vmas_free(struct crest_proc_vmas *vmas)
{
	if (!vmas)
		return;
	free_vma_array(vmas->v, vmas->n);
	vmas->v = NULL;
	vmas->n = 0;
}

/* ---- smaps --------------------------------------------------------------- */

/* Return the CREST_VMF_* bit of a two-letter VmFlags code (the position of
 * the code in CREST_VMF_CODES), or 0 for a code crest does not know. */
uint64_t crest_proc_vmflag_bit(const char code[2])
{
	static const char codes[] = CREST_VMF_CODES;
	if (!code || !code[0] || !code[1])
		return 0;
	for (size_t i = 0; i + 1 < sizeof(codes) - 1; i += 3) {
		if (codes[i] == code[0] && codes[i + 1] == code[1])
			return 1ull << (i / 3);
	}
	return 0;
}

/* True if the vmas are in strictly ascending start order (as maps lists them). */
static bool vmas_sorted(const struct crest_proc_vmas *vmas)
{
	for (size_t i = 1; i < vmas->n; i++)
		if (vmas->v[i - 1].start >= vmas->v[i].start)
			return false;
	return true;
}

/* Find the vma starting at `start`: first at *hint (smaps usually follows
 * maps in order), then by binary search if sorted, else linearly.
 * Updates *hint to the entry after the match. */
static struct crest_proc_vma *find_vma(struct crest_proc_vmas *vmas, uint64_t start, bool sorted, size_t *hint)
{
	size_t idx = SIZE_MAX;
	if (*hint < vmas->n && vmas->v[*hint].start == start) {
		idx = *hint;
	} else if (sorted) {
		size_t lo = 0, hi = vmas->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (vmas->v[mid].start < start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < vmas->n && vmas->v[lo].start == start)
			idx = lo;
	} else {
		for (size_t i = 0; i < vmas->n; i++)
			if (vmas->v[i].start == start) {
				idx = i;
				break;
			}
	}
	if (idx == SIZE_MAX)
		return NULL;
	*hint = idx + 1;
	return &vmas->v[idx];
}

/* Parse a "<n> kB" value into bytes. */
static bool parse_kb(const char *s, const char *end, uint64_t *bytes)
{
	uint64_t kb;
	if (!parse_u64(&s, end, 10, &kb))
		return false;
	skip_blanks(&s, end);
	if (end - s != 2 || s[0] != 'k' || s[1] != 'B')
		return false;
	if (kb > UINT64_MAX / 1024)
		return false;
	*bytes = kb * 1024;
	return true;
}

/* OR the bits of the VmFlags value [s, end) into *flags; unknown codes and
 * tokens that are not two letters long are ignored. */
static void parse_vmflags(const char *s, const char *end, uint64_t *flags)
{
	while (s < end) {
		skip_blanks(&s, end);
		const char *tok = s;
		while (s < end && !is_blank(*s))
			s++;
		if (s - tok == 2)
			*flags |= crest_proc_vmflag_bit(tok);
	}
}

/* The smaps parser behind crest_proc_parse_smaps(); `name` names the file. */
static int parse_smaps_named(const char *text, const char *name, struct crest_proc_vmas *vmas, crest_error **err)
{
	bool sorted = vmas_sorted(vmas);
	bool in_entry = false;
	struct crest_proc_vma *cur = NULL;
	size_t hint = 0;
	struct line ln = {0};
	const char *pos = text;

	while (next_line(&pos, &ln)) {
		if (ln.len == 0)
			continue;
		if (is_vma_header(&ln)) {
			struct crest_proc_vma hdr;
			const char *path;
			size_t path_len;
			const char *bad = parse_vma_line(&ln, &hdr, &path, &path_len);
			if (bad)
				return crest_err(err, EINVAL,
						 "%s line %zu: cannot parse %s in the mapping header \"%.*s\"; expected \"START-END PERMS OFFSET MAJOR:MINOR INODE [PATH]\" as proc(5) describes",
						 name, ln.no, bad, EXCERPT(ln.s, ln.len));
			in_entry = true;
			cur = find_vma(vmas, hdr.start, sorted, &hint);
			if (cur) {
				cur->vmflags = 0;
				cur->rss = 0;
				cur->anonymous = 0;
			}
			continue;
		}
		const char *key_end, *val, *val_end;
		if (!split_key(&ln, &key_end, &val, &val_end))
			return crest_err(err, EINVAL,
					 "%s line %zu: \"%.*s\" is neither a mapping header nor a \"Name: value\" field; is this really an smaps file?",
					 name, ln.no, EXCERPT(ln.s, ln.len));
		if (!in_entry)
			return crest_err(err, EINVAL,
					 "%s line %zu: field \"%.*s\" comes before the first mapping header; is this really an smaps file?",
					 name, ln.no, EXCERPT(ln.s, ln.len));
		if (!cur)
			continue;
		if (key_is(ln.s, key_end, "Rss") || key_is(ln.s, key_end, "Anonymous")) {
			bool rss = key_is(ln.s, key_end, "Rss");
			if (!parse_kb(val, val_end, rss ? &cur->rss : &cur->anonymous))
				return crest_err(err, EINVAL,
						 "%s line %zu: cannot parse \"%.*s\"; expected \"%s: <number> kB\"",
						 name, ln.no, EXCERPT(ln.s, ln.len), rss ? "Rss" : "Anonymous");
		} else if (key_is(ln.s, key_end, "VmFlags")) {
			parse_vmflags(val, val_end, &cur->vmflags);
		}
	}
	return 0;
}

/* Fill vmflags, rss and anonymous of the entries of `vmas` from the text
 * of /proc/PID/smaps, matching each smaps entry to a vma by its start
 * address; smaps entries with no such vma are ignored.  Returns 0 or
 * -EINVAL naming the line that does not parse (vmas may then be partly
 * filled). */
int crest_proc_parse_smaps(const char *text, struct crest_proc_vmas *vmas, crest_error **err)
{
	return parse_smaps_named(text, "smaps", vmas, err);
}

/* ---- stat ---------------------------------------------------------------- */

enum num_type { T_INT, T_LONG, T_ULONG, T_ULL };

/* The numeric fields of /proc/PID/stat crest keeps: proc(5) field number
 * (1-based), name for messages, where it goes and its type. */
static const struct stat_field {
	int field;
	const char *name;
	size_t off;
	enum num_type type;
} stat_fields[] = {
	{ 4, "ppid", offsetof(struct crest_proc_stat, ppid), T_INT },
	{ 5, "pgrp", offsetof(struct crest_proc_stat, pgrp), T_INT },
	{ 6, "session", offsetof(struct crest_proc_stat, session), T_INT },
	{ 9, "flags", offsetof(struct crest_proc_stat, flags), T_ULONG },
	{ 20, "num_threads", offsetof(struct crest_proc_stat, num_threads), T_LONG },
	{ 22, "starttime", offsetof(struct crest_proc_stat, starttime), T_ULL },
	{ 26, "startcode", offsetof(struct crest_proc_stat, start_code), T_ULONG },
	{ 27, "endcode", offsetof(struct crest_proc_stat, end_code), T_ULONG },
	{ 28, "startstack", offsetof(struct crest_proc_stat, start_stack), T_ULONG },
	{ 45, "start_data", offsetof(struct crest_proc_stat, start_data), T_ULONG },
	{ 46, "end_data", offsetof(struct crest_proc_stat, end_data), T_ULONG },
	{ 47, "start_brk", offsetof(struct crest_proc_stat, start_brk), T_ULONG },
	{ 48, "arg_start", offsetof(struct crest_proc_stat, arg_start), T_ULONG },
	{ 49, "arg_end", offsetof(struct crest_proc_stat, arg_end), T_ULONG },
	{ 50, "env_start", offsetof(struct crest_proc_stat, env_start), T_ULONG },
	{ 51, "env_end", offsetof(struct crest_proc_stat, env_end), T_ULONG },
	{ 52, "exit_code", offsetof(struct crest_proc_stat, exit_code), T_INT },
};

/* The last proc(5) field crest needs (exit_code, Linux 3.5+). */
#define STAT_MIN_FIELDS 52

/* Parse one stat field (the token [s, end)) of type `type` into the member at
 * `dst`.  False if it is not a number of that type. */
static bool store_stat_field(const char *s, const char *end, enum num_type type, void *dst)
{
	int64_t i;
	uint64_t u;
	switch (type) {
	case T_INT:
		if (!parse_whole_i64(s, end, INT32_MIN, INT32_MAX, &i))
			return false;
		memcpy(dst, &(int){ (int)i }, sizeof(int));
		return true;
	case T_LONG:
		if (!parse_whole_i64(s, end, INT64_MIN, INT64_MAX, &i))
			return false;
		memcpy(dst, &(long){ (long)i }, sizeof(long));
		return true;
	case T_ULONG:
		if (!parse_whole_u64(s, end, 10, UINT64_MAX, &u))
			return false;
		memcpy(dst, &(unsigned long){ (unsigned long)u }, sizeof(unsigned long));
		return true;
	case T_ULL:
		if (!parse_whole_u64(s, end, 10, UINT64_MAX, &u))
			return false;
		memcpy(dst, &(unsigned long long){ u }, sizeof(unsigned long long));
		return true;
	}
	return false;
}

/* The stat parser behind crest_proc_parse_stat(); `name` names the file. */
static int parse_stat_named(const char *text, const char *name, struct crest_proc_stat *out, crest_error **err)
{
	const char *end = text + strlen(text);
	const char *p = text;
	int64_t pid;

	memset(out, 0, sizeof(*out));
	if (!parse_i64(&p, end, &pid) || pid <= 0 || pid > INT32_MAX || end - p < 2 || p[0] != ' ' ||
	    p[1] != '(')
		return crest_err(err, EINVAL,
				 "%s: cannot parse the start \"%.*s\"; expected \"PID (COMM) STATE ...\" as proc(5) describes",
				 name, EXCERPT(text, (size_t)(end - text)));
	out->pid = (int)pid;
	const char *comm = p + 2;
	/* comm may hold any byte but NUL, ')' and '\n' included: it ends at
	 * the last ')' of the text, as no later field can contain one. */
	const char *close = strrchr(comm, ')');
	if (!close)
		return crest_err(err, EINVAL, "%s: no ')' closing the command name in \"%.*s\"", name,
				 EXCERPT(text, (size_t)(end - text)));
	size_t clen = (size_t)(close - comm);
	if (clen > sizeof(out->comm) - 1)
		clen = sizeof(out->comm) - 1;
	memcpy(out->comm, comm, clen);
	out->comm[clen] = '\0';

	/* Split what follows into fields; fields[0] is proc(5) field 3. */
	const char *fs[STAT_MIN_FIELDS], *fe[STAT_MIN_FIELDS];
	int nf = 2; /* pid and comm */
	p = close + 1;
	for (;;) {
		while (p < end && (is_blank(*p) || *p == '\n'))
			p++;
		if (p >= end)
			break;
		const char *tok = p;
		while (p < end && !is_blank(*p) && *p != '\n')
			p++;
		if (nf < STAT_MIN_FIELDS) {
			fs[nf - 2] = tok;
			fe[nf - 2] = p;
		}
		nf++;
	}
	if (nf < STAT_MIN_FIELDS)
		return crest_err(err, EINVAL,
				 "%s: has %d fields, crest needs at least %d (up to exit_code, Linux 3.5 or later)", name,
				 nf, STAT_MIN_FIELDS);
	if (fe[0] - fs[0] != 1)
		return crest_err(err, EINVAL, "%s: field 3 (state) is \"%.*s\", expected one letter", name,
				 EXCERPT(fs[0], (size_t)(fe[0] - fs[0])));
	out->state = fs[0][0];
	for (size_t i = 0; i < ARRAY_SIZE(stat_fields); i++) {
		const struct stat_field *f = &stat_fields[i];
		int k = f->field - 3;
		if (!store_stat_field(fs[k], fe[k], f->type, (char *)out + f->off))
			return crest_err(err, EINVAL, "%s: field %d (%s) is \"%.*s\", not a number of the expected range",
					 name, f->field, f->name, EXCERPT(fs[k], (size_t)(fe[k] - fs[k])));
	}
	return 0;
}

/* Parse the text of /proc/PID/stat (or task/TID/stat) into *out.  comm is
 * what lies between "PID (" and the last ')' of the text, cut to 63 bytes.
 * Returns 0, or -EINVAL naming the field that does not parse. */
int crest_proc_parse_stat(const char *text, struct crest_proc_stat *out, crest_error **err)
{
	return parse_stat_named(text, "stat", out, err);
}

/* ---- status -------------------------------------------------------------- */

/* The lines of /proc/PID/status crest reads.  Those in STATUS_REQUIRED must
 * be present; the others are missing on some kernels or tasks (Umask for
 * zombies, NSpid without CONFIG_PID_NS, Seccomp without CONFIG_SECCOMP,
 * CapAmb before 4.3, NoNewPrivs before 4.10). */
enum status_key {
	SK_STATE, SK_TGID, SK_PID, SK_PPID, SK_TRACERPID, SK_UID, SK_GID, SK_GROUPS, SK_THREADS,
	SK_SIGPND, SK_SHDPND, SK_SIGBLK, SK_SIGIGN, SK_SIGCGT,
	SK_CAPINH, SK_CAPPRM, SK_CAPEFF, SK_CAPBND,
	SK_UMASK, SK_CAPAMB, SK_NONEWPRIVS, SK_SECCOMP, SK_NSPID,
	SK_COUNT
};
#define STATUS_REQUIRED ((1u << (SK_CAPBND + 1)) - 1)

static const char *const status_key_names[SK_COUNT] = {
	[SK_STATE] = "State", [SK_TGID] = "Tgid", [SK_PID] = "Pid", [SK_PPID] = "PPid",
	[SK_TRACERPID] = "TracerPid", [SK_UID] = "Uid", [SK_GID] = "Gid", [SK_GROUPS] = "Groups",
	[SK_THREADS] = "Threads", [SK_SIGPND] = "SigPnd", [SK_SHDPND] = "ShdPnd", [SK_SIGBLK] = "SigBlk",
	[SK_SIGIGN] = "SigIgn", [SK_SIGCGT] = "SigCgt", [SK_CAPINH] = "CapInh", [SK_CAPPRM] = "CapPrm",
	[SK_CAPEFF] = "CapEff", [SK_CAPBND] = "CapBnd", [SK_UMASK] = "Umask", [SK_CAPAMB] = "CapAmb",
	[SK_NONEWPRIVS] = "NoNewPrivs", [SK_SECCOMP] = "Seccomp", [SK_NSPID] = "NSpid",
};

/* Parse a blank-separated list of decimal uint32 in [s, end) into a malloc'd
 * array (NULL when empty).  Returns the count, -EINVAL or -ENOMEM. */
static ssize_t parse_u32_list(const char *s, const char *end, uint32_t **out)
{
	uint32_t *arr = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	for (;;) {
		skip_blanks(&s, end);
		if (s >= end)
			break;
		uint64_t v;
		if (!parse_u64(&s, end, 10, &v) || v > UINT32_MAX || (s < end && !is_blank(*s))) {
			free(arr);
			return -EINVAL;
		}
		if (crest_grow(&arr, &cap, n + 1, sizeof(*arr)) < 0) {
			free(arr);
			return -ENOMEM;
		}
		arr[n++] = (uint32_t)v;
	}
	*out = arr;
	return (ssize_t)n;
}

/* Parse the value of one known status line into *out.  Returns 0,
 * -EINVAL if it does not parse, or -ENOMEM. */
static int parse_status_value(enum status_key k, const char *v, const char *ve, struct crest_proc_status *out)
{
	static const size_t u64_off[] = {
		[SK_SIGPND] = offsetof(struct crest_proc_status, sig_pnd),
		[SK_SHDPND] = offsetof(struct crest_proc_status, shd_pnd),
		[SK_SIGBLK] = offsetof(struct crest_proc_status, sig_blk),
		[SK_SIGIGN] = offsetof(struct crest_proc_status, sig_ign),
		[SK_SIGCGT] = offsetof(struct crest_proc_status, sig_cgt),
		[SK_CAPINH] = offsetof(struct crest_proc_status, cap_inh),
		[SK_CAPPRM] = offsetof(struct crest_proc_status, cap_prm),
		[SK_CAPEFF] = offsetof(struct crest_proc_status, cap_eff),
		[SK_CAPBND] = offsetof(struct crest_proc_status, cap_bnd),
		[SK_CAPAMB] = offsetof(struct crest_proc_status, cap_amb),
	};
	int64_t i;
	uint64_t u;
	uint32_t *list;
	ssize_t n;

	switch (k) {
	case SK_STATE:
		if (v >= ve)
			return -EINVAL;
		out->state = v[0];
		return 0;
	case SK_TGID:
	case SK_PID:
	case SK_PPID:
	case SK_TRACERPID:
	case SK_THREADS:
	case SK_NONEWPRIVS:
	case SK_SECCOMP:
		if (!parse_whole_i64(v, ve, 0, INT32_MAX, &i))
			return -EINVAL;
		switch (k) {
		case SK_TGID: out->tgid = (int)i; break;
		case SK_PID: out->pid = (int)i; break;
		case SK_PPID: out->ppid = (int)i; break;
		case SK_TRACERPID: out->tracer_pid = (int)i; break;
		case SK_THREADS: out->threads = (int)i; break;
		case SK_NONEWPRIVS: out->no_new_privs = (int)i; break;
		default: out->seccomp = (int)i; break;
		}
		return 0;
	case SK_UID:
	case SK_GID:
		n = parse_u32_list(v, ve, &list);
		if (n < 0)
			return (int)n;
		if (n != 4) {
			free(list);
			return -EINVAL;
		}
		memcpy(k == SK_UID ? out->uid : out->gid, list, 4 * sizeof(uint32_t));
		free(list);
		return 0;
	case SK_GROUPS:
		n = parse_u32_list(v, ve, &list);
		if (n < 0)
			return (int)n;
		free(out->groups);
		out->groups = list;
		out->ngroups = (size_t)n;
		return 0;
	case SK_NSPID:
		n = parse_u32_list(v, ve, &list);
		if (n < 0)
			return (int)n;
		free(list);
		if (n == 0)
			return -EINVAL;
		out->nspid_depth = (int)n;
		return 0;
	case SK_UMASK:
		if (!parse_whole_u64(v, ve, 8, 0777, &u))
			return -EINVAL;
		out->umask = (uint32_t)u;
		return 0;
	case SK_SIGPND:
	case SK_SHDPND:
	case SK_SIGBLK:
	case SK_SIGIGN:
	case SK_SIGCGT:
	case SK_CAPINH:
	case SK_CAPPRM:
	case SK_CAPEFF:
	case SK_CAPBND:
	case SK_CAPAMB:
		if (!parse_whole_u64(v, ve, 16, UINT64_MAX, &u))
			return -EINVAL;
		memcpy((char *)out + u64_off[k], &u, sizeof(u));
		return 0;
	case SK_COUNT:
		break;
	}
	return -EINVAL;
}

/* What a status line should look like, for messages. */
static const char *status_expected(enum status_key k)
{
	switch (k) {
	case SK_STATE: return "a state letter such as \"S (sleeping)\"";
	case SK_UID:
	case SK_GID: return "four decimal IDs (real, effective, saved, filesystem)";
	case SK_GROUPS: return "a possibly empty list of decimal group IDs";
	case SK_NSPID: return "one or more decimal PIDs";
	case SK_UMASK: return "an octal mode such as 0022";
	case SK_SIGPND: case SK_SHDPND: case SK_SIGBLK: case SK_SIGIGN: case SK_SIGCGT:
	case SK_CAPINH: case SK_CAPPRM: case SK_CAPEFF: case SK_CAPBND: case SK_CAPAMB:
		return "a 64-bit hex mask";
	default: return "a non-negative decimal number";
	}
}

/* The status parser behind crest_proc_parse_status(); `name` names the file. */
static int parse_status_named(const char *text, const char *name, struct crest_proc_status *out, crest_error **err)
{
	struct line ln = {0};
	const char *pos = text;
	uint32_t seen = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	while (next_line(&pos, &ln)) {
		if (ln.len == 0)
			continue;
		const char *key_end, *v, *ve;
		if (!split_key(&ln, &key_end, &v, &ve)) {
			ret = crest_err(err, EINVAL, "%s line %zu: \"%.*s\" is not a \"Name: value\" line", name,
					ln.no, EXCERPT(ln.s, ln.len));
			goto fail;
		}
		for (int k = 0; k < SK_COUNT; k++) {
			if (!key_is(ln.s, key_end, status_key_names[k]))
				continue;
			ret = parse_status_value((enum status_key)k, v, ve, out);
			if (ret == -ENOMEM) {
				ret = crest_err(err, ENOMEM, "%s line %zu: out of memory", name, ln.no);
				goto fail;
			}
			if (ret < 0) {
				ret = crest_err(err, EINVAL, "%s line %zu: cannot parse \"%.*s\"; expected %s after \"%s:\"",
						name, ln.no, EXCERPT(ln.s, ln.len), status_expected((enum status_key)k),
						status_key_names[k]);
				goto fail;
			}
			seen |= 1u << k;
			break;
		}
	}
	for (int k = 0; k < SK_COUNT; k++) {
		if ((STATUS_REQUIRED & (1u << k)) && !(seen & (1u << k))) {
			ret = crest_err(err, EINVAL, "%s: no \"%s:\" line; is this really a /proc/PID/status file?", name,
					status_key_names[k]);
			goto fail;
		}
	}
	return 0;
fail:
	crest_proc_status_free(out);
	memset(out, 0, sizeof(*out));
	return ret;
}

/* Parse the text of /proc/PID/status into *out.  The lines State, Tgid,
 * Pid, PPid, TracerPid, Uid, Gid, Groups, Threads, SigPnd, ShdPnd, SigBlk,
 * SigIgn, SigCgt, CapInh, CapPrm, CapEff and CapBnd are required; Umask,
 * CapAmb, NoNewPrivs, Seccomp and NSpid leave their field 0 when absent
 * (Umask is absent for a zombie).  Other lines are ignored.  Returns 0 or
 * -EINVAL naming the line; on success release with crest_proc_status_free(). */
int crest_proc_parse_status(const char *text, struct crest_proc_status *out, crest_error **err)
{
	return parse_status_named(text, "status", out, err);
}

/* Free the group list of *st and leave it empty; safe to call twice. */
void crest_proc_status_free(struct crest_proc_status *st)
{
	if (!st)
		return;
	free(st->groups);
	st->groups = NULL;
	st->ngroups = 0;
}

/* ---- fdinfo -------------------------------------------------------------- */

/* The fdinfo parser behind crest_proc_parse_fdinfo(); `name` names the file. */
static int parse_fdinfo_named(const char *text, const char *name, struct crest_proc_fdinfo *out, crest_error **err)
{
	static const struct {
		const char *key;
		unsigned base;
		uint64_t max;
		const char *expect;
	} keys[] = {
		{ "pos", 10, UINT64_MAX, "a decimal offset" },
		{ "flags", 8, UINT32_MAX, "octal open flags" },
		{ "mnt_id", 10, UINT32_MAX, "a decimal mount ID" },
		{ "ino", 10, UINT64_MAX, "a decimal inode number" },
	};
	struct line ln = {0};
	const char *pos = text;
	unsigned seen = 0;

	memset(out, 0, sizeof(*out));
	while (next_line(&pos, &ln)) {
		const char *key_end, *v, *ve;
		/* Kind-specific lines follow the common ones; some (io_uring's
		 * "  op=..., task_works=...") have no colon.  Skip them. */
		if (!split_key(&ln, &key_end, &v, &ve))
			continue;
		for (unsigned k = 0; k < ARRAY_SIZE(keys); k++) {
			if (!key_is(ln.s, key_end, keys[k].key))
				continue;
			if (seen & (1u << k))
				break; /* the first one is the fd's own */
			uint64_t u;
			if (!parse_whole_u64(v, ve, keys[k].base, keys[k].max, &u))
				return crest_err(err, EINVAL, "%s line %zu: cannot parse \"%.*s\"; expected %s after \"%s:\"",
						 name, ln.no, EXCERPT(ln.s, ln.len), keys[k].expect, keys[k].key);
			switch (k) {
			case 0: out->pos = u; break;
			case 1: out->flags = (uint32_t)u; break;
			case 2: out->mnt_id = (uint32_t)u; break;
			default: out->ino = u; break;
			}
			seen |= 1u << k;
			break;
		}
	}
	/* pos and flags always exist; mnt_id since Linux 3.15. ino (5.14+)
	 * is optional and stays 0. */
	for (unsigned k = 0; k < 3; k++)
		if (!(seen & (1u << k)))
			return crest_err(err, EINVAL, "%s: no \"%s:\" line; is this really a /proc/PID/fdinfo/N file?",
					 name, keys[k].key);
	return 0;
}

/* Parse the text of /proc/PID/fdinfo/N: "pos:" (decimal), "flags:" (octal)
 * and "mnt_id:" are required, "ino:" is optional (0 if absent); the
 * kind-specific lines after them are ignored.  Returns 0 or -EINVAL. */
int crest_proc_parse_fdinfo(const char *text, struct crest_proc_fdinfo *out, crest_error **err)
{
	return parse_fdinfo_named(text, "fdinfo", out, err);
}

/* ---- fd kinds ------------------------------------------------------------ */

/* Classify an fd by the target of its /proc/PID/fd/N link and the st_mode
 * of what it refers to (0 if unknown).  Pseudo-files are recognised by the
 * link text ("pipe:[N]", "socket:[N]", "anon_inode:...", "/memfd:..."),
 * the rest by the file type in st_mode.  Returns an enum crest_fd_kind. */
int crest_proc_fd_kind(const char *link, uint32_t st_mode)
{
	static const struct {
		const char *link;
		int kind;
	} anon[] = {
		{ "anon_inode:[eventfd]", CREST_FD_EVENTFD },
		{ "anon_inode:[eventpoll]", CREST_FD_EPOLL },
		{ "anon_inode:[timerfd]", CREST_FD_TIMERFD },
		{ "anon_inode:[signalfd]", CREST_FD_SIGNALFD },
		{ "anon_inode:inotify", CREST_FD_INOTIFY },
		{ "anon_inode:[fanotify]", CREST_FD_FANOTIFY },
		{ "anon_inode:[pidfd]", CREST_FD_PIDFD },
		{ "anon_inode:[userfaultfd]", CREST_FD_USERFAULTFD },
		{ "anon_inode:[io_uring]", CREST_FD_IO_URING },
	};
	mode_t mode = (mode_t)st_mode;

	if (link) {
		if (strncmp(link, "pipe:[", 6) == 0)
			return CREST_FD_FIFO;
		if (strncmp(link, "socket:[", 8) == 0)
			return CREST_FD_SOCKET;
		if (strncmp(link, "anon_inode:", 11) == 0) {
			for (size_t i = 0; i < ARRAY_SIZE(anon); i++)
				if (strcmp(link, anon[i].link) == 0)
					return anon[i].kind;
			return CREST_FD_OTHER_ANON;
		}
		if (strncmp(link, "/memfd:", 7) == 0 && (st_mode == 0 || S_ISREG(mode)))
			return CREST_FD_MEMFD;
	}
	if (S_ISREG(mode))
		return CREST_FD_REG;
	if (S_ISDIR(mode))
		return CREST_FD_DIR;
	if (S_ISCHR(mode))
		return CREST_FD_CHR;
	if (S_ISBLK(mode))
		return CREST_FD_BLK;
	if (S_ISFIFO(mode))
		return CREST_FD_FIFO;
	if (S_ISSOCK(mode))
		return CREST_FD_SOCKET;
	return CREST_FD_UNKNOWN;
}

/* Return a short lower-case name of an enum crest_fd_kind for messages
 * ("unknown" for a value out of range); never NULL. */
const char *crest_proc_fd_kind_name(int kind)
{
	static const char *const names[] = {
		[CREST_FD_REG] = "file", [CREST_FD_DIR] = "directory", [CREST_FD_CHR] = "chardev",
		[CREST_FD_BLK] = "blockdev", [CREST_FD_FIFO] = "pipe", [CREST_FD_SOCKET] = "socket",
		[CREST_FD_EVENTFD] = "eventfd", [CREST_FD_EPOLL] = "epoll", [CREST_FD_TIMERFD] = "timerfd",
		[CREST_FD_SIGNALFD] = "signalfd", [CREST_FD_INOTIFY] = "inotify", [CREST_FD_FANOTIFY] = "fanotify",
		[CREST_FD_PIDFD] = "pidfd", [CREST_FD_USERFAULTFD] = "userfaultfd", [CREST_FD_IO_URING] = "io_uring",
		[CREST_FD_MEMFD] = "memfd", [CREST_FD_OTHER_ANON] = "anon_inode", [CREST_FD_UNKNOWN] = "unknown",
	};
	if (kind < 0 || (size_t)kind >= ARRAY_SIZE(names) || !names[kind])
		return "unknown";
	return names[kind];
}

/* ---- reading the live files ---------------------------------------------- */

/* Turn the failure `e` (positive errno) of reading `path`, which belongs to
 * process pid (thread tid if not 0), into an error a user can act on. */
static int proc_read_error(pid_t pid, pid_t tid, const char *path, int e, crest_error **err)
{
	char dir[64];
	if (e == ENOENT || e == ESRCH) {
		if (access("/proc/self/stat", F_OK) != 0)
			return crest_err(err, ENOENT, "cannot read %s: /proc is not mounted; mount it with \"mount -t proc proc /proc\"",
					 path);
		snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
		if (tid && access(dir, F_OK) == 0)
			return crest_err(err, ESRCH, "no thread %d in process %d (%s does not exist; the thread has exited)",
					 (int)tid, (int)pid, path);
		return crest_err(err, ESRCH, "no process with PID %d (%s does not exist; it has exited or never existed)",
				 (int)pid, path);
	}
	/* The kernel says EACCES when the ptrace access check fails; crest
	 * reports that as EPERM (docs/error-handling.md). */
	if (e == EACCES || e == EPERM)
		return crest_err(err, EPERM,
				 "cannot read %s: permission denied; run crest as root or as the owner of process %d and check /proc/sys/kernel/yama/ptrace_scope (a process that is not dumpable or lives in another user namespace is closed even to root)",
				 path, (int)pid);
	return crest_err_sys(err, e, "cannot read %s", path);
}

/* Read the whole of `path` (a file of process pid, thread tid if not 0)
 * into a malloc'd *text.  Returns 0 or -errno with a message: -ESRCH if
 * the process or thread is gone, -EPERM if crest may not read it. */
static int read_proc_file(pid_t pid, pid_t tid, const char *path, char **text, crest_error **err)
{
	ssize_t r = crest_read_file(path, text);
	if (r < 0)
		return proc_read_error(pid, tid, path, (int)-r, err);
	return 0;
}

/* Compare two pid_t for qsort(). */
static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* List the thread IDs of process pid from /proc/PID/task into a malloc'd
 * *tids of *n entries, sorted ascending.  Returns 0, -ESRCH if the process
 * does not exist (or has no threads left), or another -errno. */
int crest_proc_list_tasks(pid_t pid, pid_t **tids, size_t *n, crest_error **err)
{
	char path[64];
	cleanup_free pid_t *arr = NULL;
	size_t cnt = 0, cap = 0;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return proc_read_error(pid, 0, path, errno, err);
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				int e = errno;
				closedir(d);
				return proc_read_error(pid, 0, path, e, err);
			}
			break;
		}
		const char *s = de->d_name, *end = s + strlen(s);
		uint64_t tid;
		if (!parse_u64(&s, end, 10, &tid) || s != end || tid == 0 || tid > INT32_MAX)
			continue; /* "." and ".." */
		if (crest_grow(&arr, &cap, cnt + 1, sizeof(*arr)) < 0) {
			closedir(d);
			return crest_err(err, ENOMEM, "%s: out of memory for %zu thread IDs", path, cnt + 1);
		}
		arr[cnt++] = (pid_t)tid;
	}
	closedir(d);
	if (cnt == 0)
		return crest_err(err, ESRCH, "no threads left in process %d (%s is empty; it is exiting)", (int)pid, path);
	qsort(arr, cnt, sizeof(*arr), cmp_pid);
	*tids = steal_ptr(arr);
	*n = cnt;
	return 0;
}

/* Read the mappings of process pid with their smaps data into *out (as
 * crest_proc_parse_maps() followed by crest_proc_parse_smaps()).  Both come
 * from the one text of /proc/PID/smaps, whose entry headers are the maps
 * lines, so the two always agree even if the process changes its mappings.
 * Returns 0 or -errno (-ESRCH if the process is gone); out is empty on
 * failure. */
int crest_proc_read_vmas(pid_t pid, struct crest_proc_vmas *out, crest_error **err)
{
	char path[64];
	cleanup_free char *text = NULL;
	int ret;

	out->v = NULL;
	out->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	ret = read_proc_file(pid, 0, path, &text, err);
	if (ret < 0)
		return ret;
	ret = collect_vmas(text, path, true, out, err);
	if (ret < 0)
		return ret;
	ret = parse_smaps_named(text, path, out, err);
	if (ret < 0)
		crest_proc_vmas_free(out);
	return ret;
}

/* Read and parse /proc/PID/stat, or /proc/PID/task/TID/stat when tid != 0,
 * into *out.  Returns 0 or -errno (-ESRCH if the process or thread is gone). */
int crest_proc_read_stat(pid_t pid, pid_t tid, struct crest_proc_stat *out, crest_error **err)
{
	char path[96];
	cleanup_free char *text = NULL;

	memset(out, 0, sizeof(*out));
	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int ret = read_proc_file(pid, tid, path, &text, err);
	if (ret < 0)
		return ret;
	return parse_stat_named(text, path, out, err);
}

/* Read and parse /proc/PID/status into *out (release with
 * crest_proc_status_free()).  Returns 0 or -errno (-ESRCH if the process is
 * gone); out is empty on failure. */
int crest_proc_read_status(pid_t pid, struct crest_proc_status *out, crest_error **err)
{
	char path[64];
	cleanup_free char *text = NULL;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int ret = read_proc_file(pid, 0, path, &text, err);
	if (ret < 0)
		return ret;
	return parse_status_named(text, path, out, err);
}
