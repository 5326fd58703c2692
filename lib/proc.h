/*
 * proc.h - parsers for the /proc files crest reads.
 *
 * Each crest_proc_parse_* function takes the text of one file (as read in
 * full by crest_read_file) and fills a struct; it never touches /proc
 * itself, so unit tests feed it captured or hand-written text.  The
 * crest_proc_read_* helpers read the live file and call the parser.
 *
 * All functions return 0 (or a count) on success and -errno on failure
 * (-EINVAL for text that does not parse), filling *err as described in
 * internal.h.  Error messages name the file and, where it applies, the line.
 */
#ifndef CREST_PROC_H
#define CREST_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"
#include "image_format.h"

/* One line of /proc/PID/maps, plus what smaps adds. */
struct crest_proc_vma {
	uint64_t start, end;
	uint64_t pgoff;
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	uint32_t prot;           /* PROT_READ | PROT_WRITE | PROT_EXEC from "rwxp" */
	bool shared;             /* 's' in the fourth column */
	bool deleted;            /* path ended in " (deleted)" (suffix removed from path) */
	char *path;              /* malloc'd; NULL for an anonymous mapping with no name */
	/* filled by crest_proc_parse_smaps(): */
	uint64_t vmflags;        /* CREST_VMF_* bits */
	uint64_t rss;            /* bytes ("Rss:" is in kB) */
	uint64_t anonymous;      /* bytes ("Anonymous:") */
};

struct crest_proc_vmas {
	struct crest_proc_vma *v;
	size_t n;
};

/* Parse the text of /proc/PID/maps.  Paths may contain spaces; the path is
 * everything after the inode column and its padding. */
int crest_proc_parse_maps(const char *text, struct crest_proc_vmas *out, crest_error **err);

/* Parse the text of /proc/PID/smaps and fill vmflags/rss/anonymous of the
 * matching entries of `vmas` (matched by start address).  Entries in smaps
 * that are not in `vmas` are ignored. Unknown VmFlags codes are ignored. */
int crest_proc_parse_smaps(const char *text, struct crest_proc_vmas *vmas, crest_error **err);

/* Map one two-letter VmFlags code to its CREST_VMF_* bit (0 if unknown). */
uint64_t crest_proc_vmflag_bit(const char code[2]);

void crest_proc_vmas_free(struct crest_proc_vmas *vmas);

/* Fields of /proc/PID/stat (see proc(5)); comm may contain spaces and ')'. */
struct crest_proc_stat {
	int pid;
	char comm[64];
	char state;
	int ppid, pgrp, session;
	unsigned long flags;     /* PF_* ; PF_KTHREAD = 0x00200000 */
	long num_threads;
	unsigned long long starttime;
	unsigned long start_code, end_code, start_stack;
	unsigned long start_data, end_data, start_brk;
	unsigned long arg_start, arg_end, env_start, env_end;
	int exit_code;
};

int crest_proc_parse_stat(const char *text, struct crest_proc_stat *out, crest_error **err);

/* Fields of /proc/PID/status. */
struct crest_proc_status {
	char state;              /* first letter of "State:" */
	int tgid, pid, ppid, tracer_pid;
	uint32_t uid[4], gid[4];
	uint32_t *groups;        /* malloc'd, may be NULL when ngroups == 0 */
	size_t ngroups;
	uint32_t umask;          /* "Umask:" (octal) */
	uint64_t sig_pnd, shd_pnd, sig_blk, sig_ign, sig_cgt; /* hex masks */
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs;
	int seccomp;
	int nspid_depth;         /* number of entries on the "NSpid:" line */
	int threads;
};

int crest_proc_parse_status(const char *text, struct crest_proc_status *out, crest_error **err);
void crest_proc_status_free(struct crest_proc_status *st);

/* Fields of /proc/PID/fdinfo/N. */
struct crest_proc_fdinfo {
	uint64_t pos;
	uint32_t flags;          /* "flags:" is octal */
	uint32_t mnt_id;
	uint64_t ino;
};

int crest_proc_parse_fdinfo(const char *text, struct crest_proc_fdinfo *out, crest_error **err);

/* Classify an fd from the text of its /proc/PID/fd/N link and the st_mode
 * of what it points to (from stat(), 0 if unknown). Returns enum crest_fd_kind. */
int crest_proc_fd_kind(const char *link, uint32_t st_mode);

/* Name of an fd kind for messages, e.g. "eventfd", "socket". */
const char *crest_proc_fd_kind_name(int kind);

/* List the thread IDs in /proc/PID/task, sorted ascending. *tids is malloc'd. */
int crest_proc_list_tasks(pid_t pid, pid_t **tids, size_t *n, crest_error **err);

/* Read and parse /proc/PID/{maps,smaps,stat,status} (tid for task/TID/stat when
 * tid != 0). */
int crest_proc_read_vmas(pid_t pid, struct crest_proc_vmas *out, crest_error **err);
int crest_proc_read_stat(pid_t pid, pid_t tid, struct crest_proc_stat *out, crest_error **err);
int crest_proc_read_status(pid_t pid, struct crest_proc_status *out, crest_error **err);

#endif
