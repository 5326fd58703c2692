/*
 * restorer.h - the contract between crest restore (lib/restore.c) and the
 * freestanding restorer blob (restorer/restorer.c) that runs inside the new
 * process and replaces its address space with the image's.
 *
 * Shared by both sides: fixed-size types only, no libc, layout checked at
 * compile time.  crest places one `struct rst_args` (followed by its
 * arrays) in the blob's region; every array is addressed by an offset from
 * the start of rst_args, so nothing needs relocating.
 */
#ifndef CREST_RESTORER_H
#define CREST_RESTORER_H

#include <stdint.h>

#define RST_MAGIC 0x43525354u /* "CRST" */

/* Messages the restorer writes to the status pipe (struct rst_msg). */
enum rst_msg_kind {
	RST_MSG_MAPPED = 1, /* every mapping is in place: crest writes the pages now */
	RST_MSG_READY = 2,  /* a thread has finished its setup (detail = tid) */
	RST_MSG_ERROR = 3,  /* something failed: phase, -errno, detail */
};

enum rst_phase {
	RST_PH_VDSO = 1, RST_PH_UNMAP = 2, RST_PH_MAP = 3, RST_PH_WAIT = 4,
	RST_PH_PROTECT = 5, RST_PH_SIGACTION = 6, RST_PH_MM = 7, RST_PH_THREAD = 8,
	RST_PH_SIGQUEUE = 9, RST_PH_MISC = 10, RST_PH_CREDS = 11,
};

struct rst_msg {
	uint32_t kind;
	uint32_t phase;
	int64_t err;              /* -errno for RST_MSG_ERROR */
	uint64_t detail;          /* tid, mapping index or address */
};
_Static_assert(sizeof(struct rst_msg) == 24, "rst_msg layout");

/* One mapping to create. */
struct rst_vma {
	uint64_t start, end;
	uint64_t pgoff;           /* byte offset into the file */
	uint32_t prot;            /* final protection */
	uint32_t map_flags;       /* MAP_PRIVATE/MAP_SHARED/MAP_ANONYMOUS/MAP_GROWSDOWN (MAP_FIXED is added) */
	int32_t fd;               /* file to map, or -1 */
	uint32_t fill;            /* 1: has stored pages (mapped writable until filled) */
	uint32_t madv;            /* RST_MADV_* to apply after mapping */
	uint32_t pad;
};
_Static_assert(sizeof(struct rst_vma) == 48, "rst_vma layout");

enum { RST_MADV_DONTFORK = 1, RST_MADV_DONTDUMP = 2, RST_MADV_HUGEPAGE = 4, RST_MADV_NOHUGEPAGE = 8,
       RST_MADV_WIPEONFORK = 16 };

/* A special mapping to move from where the kernel put it to where the image
 * had it: [vvar], [vvar_vclock], [vdso]. */
struct rst_move {
	uint64_t from, len, to;
};

struct rst_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct rst_thread {
	uint32_t tid;
	uint32_t nsigq;           /* per-thread pending signals, at sigq_off */
	uint64_t sigq_off;        /* offset (from rst_args) of nsigq 128-byte siginfos */
	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;
	uint64_t rseq_addr;
	uint32_t rseq_len, rseq_sig;
	uint64_t altstack_sp, altstack_size;
	uint32_t altstack_flags, pad;
	uint64_t stack_top;       /* the restorer's own stack for this thread */
	char comm[16];
};
_Static_assert(sizeof(struct rst_thread) == 104, "rst_thread layout");

/* PR_SET_MM_MAP's struct prctl_mm_map. */
struct rst_mm_map {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv;            /* pointer (filled by the restorer from auxv_off) */
	uint32_t auxv_size;
	uint32_t exe_fd;
};
_Static_assert(sizeof(struct rst_mm_map) == 104, "rst_mm_map layout");

struct rst_args {
	uint32_t magic;           /* RST_MAGIC */
	uint32_t size;            /* bytes of rst_args + arrays */
	uint64_t blob_start, blob_end; /* the whole region: code, args, stacks */
	uint64_t scratch;         /* free part of the region for moving the vDSO */
	int32_t status_fd;        /* write end of the status pipe */
	int32_t go_fd;            /* read end of the "memory filled" pipe */
	int32_t image_fd;         /* closed by the restorer */
	uint32_t umask;
	uint64_t task_size;       /* top of user space */
	uint32_t nvma, nmove, nthreads, pad;
	uint64_t vma_off, move_off, thread_off; /* offsets from rst_args */
	struct rst_sigaction act[64];  /* signal n at act[n-1] */
	uint64_t act_set;         /* bit n-1: install act[n-1] */
	uint32_t nshq, personality;
	uint64_t shq_off;         /* process-wide pending siginfos (128 bytes each) */
	struct rst_mm_map mm;
	uint64_t auxv_off;        /* offset of the auxv words */
	uint64_t thread_entry;    /* address of the blob's thread entry (set by crest) */
	/* credentials, set by every thread for itself at the end of its setup
	 * (the kernel keeps them per thread) when `creds` is non-zero */
	uint32_t creds, no_new_privs;
	uint32_t uid[4], gid[4];  /* real, effective, saved, fs */
	uint32_t ngroups, pad2;
	uint64_t groups_off;      /* ngroups uint32_t */
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint64_t rlim[16][2];     /* RLIMIT_* soft, hard: set by the leader */
};

#define RST_STACK_SIZE (32u << 10)

#endif
