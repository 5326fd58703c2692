/*
 * image_format.h - the on-disk layout of a crest image (docs/image-format.md).
 *
 * An image is one ELF64 core file (ET_CORE).  Standard notes (NT_PRSTATUS,
 * NT_PRPSINFO, NT_AUXV, NT_FILE, NT_FPREGSET, NT_X86_XSTATE, NT_SIGINFO)
 * make it readable by gdb and readelf; crest's own notes, with the owner
 * name "CREST", hold everything else.  Page contents are PT_LOAD segments at
 * page-aligned file offsets, starting at one page; the program headers and
 * the notes follow the page data (e_phoff points at them).
 *
 * This header is shared by libcrest and the freestanding restorer: only
 * fixed-size types, no libc.  Every struct's size is checked at compile
 * time; fields are only ever appended, and readers use `entsize` from the
 * table header so that older readers skip what they do not know.
 */
#ifndef CREST_IMAGE_FORMAT_H
#define CREST_IMAGE_FORMAT_H

#include <stdint.h>

#define CREST_NOTE_OWNER "CREST"
/* Version of the image layout.  A reader refuses images with a larger
 * major version. */
#define CREST_IMAGE_VERSION 1

/* Note types under the "CREST" owner. */
enum crest_note_type {
	CREST_NT_META = 0x43520001,      /* struct crest_meta, exactly one, first note */
	CREST_NT_PROCESS = 0x43520002,   /* table of one struct crest_process */
	CREST_NT_THREAD = 0x43520003,    /* struct crest_thread, one per thread, after its NT_PRSTATUS */
	CREST_NT_SIGQUEUE = 0x43520004,  /* table of struct crest_siginfo: pending signals of the preceding thread */
	CREST_NT_SHARED_SIGQUEUE = 0x43520005, /* table of struct crest_siginfo: process-wide pending signals */
	CREST_NT_SIGACTIONS = 0x43520006, /* table of struct crest_sigaction, 64 entries (signal 1..64) */
	CREST_NT_VMAS = 0x43520007,      /* table of struct crest_vma_entry */
	CREST_NT_FDS = 0x43520008,       /* table of struct crest_fd_entry */
	CREST_NT_CHECKSUM = 0x43520009,  /* struct crest_checksum, always the last note */
	CREST_NT_GROUPS = 0x4352000a,    /* table of uint32_t: supplementary group IDs */
};

/*
 * Every crest note except CREST_NT_CHECKSUM is a table:
 *   struct crest_table_hdr, then `count` entries of `entsize` bytes, then a
 *   string table of `strtab_size` bytes.  String fields are byte offsets
 *   into the string table; offset 0 is the empty string.
 */
struct crest_table_hdr {
	uint32_t version;     /* CREST_IMAGE_VERSION when written */
	uint32_t entsize;     /* size of one entry as written */
	uint32_t count;
	uint32_t strtab_size;
};
_Static_assert(sizeof(struct crest_table_hdr) == 16, "crest_table_hdr layout");

struct crest_meta {
	uint32_t image_version;   /* CREST_IMAGE_VERSION */
	uint32_t page_size;
	uint64_t created_ns;      /* CLOCK_REALTIME at freeze */
	uint32_t pid;             /* the dumped process's PID (in crest's namespace) */
	uint32_t nthreads;
	uint64_t xcr0;            /* features enabled in the XSAVE area (from the first thread) */
	uint32_t xsave_size;      /* size of each NT_X86_XSTATE note */
	uint32_t flags;           /* CREST_META_* */
	uint64_t frozen_ns;       /* informational: how long the target had been stopped when the headers were written */
	uint32_t crest_version;   /* str: crest version that wrote it */
	uint32_t hostname;        /* str */
	uint32_t kernel_release;  /* str: uname -r */
	uint32_t reserved;
};
_Static_assert(sizeof(struct crest_meta) == 64, "crest_meta layout");

enum {
	CREST_META_LEFT_RUNNING = 1u << 0, /* target resumed after dump */
	CREST_META_SKIPPED_FDS = 1u << 1,  /* some fds were recorded as unsupported */
};

#define CREST_RLIMIT_COUNT 16
struct crest_rlimit {
	uint64_t cur, max;
};

struct crest_process {
	uint32_t pid, ppid, pgid, sid;
	uint32_t uid[4];          /* real, effective, saved, fs */
	uint32_t gid[4];
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t personality;
	uint32_t umask;
	uint32_t no_new_privs;
	uint32_t seccomp_mode;
	uint32_t ngroups;         /* supplementary groups, in CREST_NT_GROUPS */
	uint32_t dumpable;
	/* mm fields (as PR_SET_MM_MAP wants them) */
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint32_t exe;             /* str: /proc/PID/exe */
	uint32_t cwd;             /* str */
	uint32_t root;            /* str */
	uint32_t comm;            /* str */
	struct crest_rlimit rlimits[CREST_RLIMIT_COUNT]; /* RLIMIT_* order */
};
_Static_assert(sizeof(struct crest_process) == 472, "crest_process layout");

/* How restore should treat the system call a thread was stopped in. */
enum crest_syscall_restart {
	CREST_SC_NONE = 0,        /* not in a system call */
	CREST_SC_RESTART = 1,     /* -ERESTARTSYS/-ERESTARTNOINTR/-ERESTARTNOHAND: re-execute (rax=orig_rax, rip-=2) */
	CREST_SC_EINTR = 2,       /* -ERESTART_RESTARTBLOCK: the kernel's restart block is lost; return -EINTR */
	CREST_SC_DONE = 3,        /* the call had completed: rax holds its result */
};

struct crest_thread {
	uint32_t tid;
	uint32_t state;           /* char from /proc/PID/task/TID/stat */
	uint64_t sigmask;         /* blocked signals, bit n-1 = signal n */
	int64_t syscall_nr;       /* orig_rax; -1 if not in a system call */
	int64_t syscall_ret;      /* rax at freeze */
	uint32_t restart;         /* enum crest_syscall_restart */
	uint32_t flags;           /* CREST_THREAD_* */
	uint64_t altstack_sp, altstack_size;
	uint32_t altstack_flags, rseq_len;
	uint64_t rseq_addr;
	uint32_t rseq_sig, rseq_flags;
	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;
	uint64_t fs_base, gs_base; /* copies of the NT_PRSTATUS values, for convenience */
	uint32_t comm;            /* str */
	uint32_t nsigqueue;       /* pending per-thread signals (CREST_NT_SIGQUEUE) */
};
_Static_assert(sizeof(struct crest_thread) == 128, "crest_thread layout");

enum {
	CREST_THREAD_LEADER = 1u << 0,
	CREST_THREAD_GROUP_STOPPED = 1u << 1, /* was in a group stop (T) before crest froze it */
};

/* A siginfo as the kernel reports it (PTRACE_PEEKSIGINFO): 128 bytes. */
struct crest_siginfo {
	uint8_t raw[128];
};

struct crest_sigaction {
	uint64_t handler;         /* SIG_DFL=0, SIG_IGN=1, or an address */
	uint64_t flags;           /* SA_* */
	uint64_t restorer;
	uint64_t mask;
};
_Static_assert(sizeof(struct crest_sigaction) == 32, "crest_sigaction layout");

/* VmFlags from /proc/PID/smaps, one bit per two-letter code, in this order
 * (bit n = code n of CREST_VMF_CODES). */
#define CREST_VMF_CODES "rd wr ex sh mr mw me ms gd pf lo io sr rr dc de ac nr ht sf nl ar wf dd sd mm hg nh mg um uw ss sl bt mt dw se"
#define CREST_VMF_RD (1ull << 0)
#define CREST_VMF_WR (1ull << 1)
#define CREST_VMF_EX (1ull << 2)
#define CREST_VMF_SH (1ull << 3)
#define CREST_VMF_MR (1ull << 4)
#define CREST_VMF_MW (1ull << 5)
#define CREST_VMF_ME (1ull << 6)
#define CREST_VMF_MS (1ull << 7)
#define CREST_VMF_GD (1ull << 8)
#define CREST_VMF_PF (1ull << 9)
#define CREST_VMF_LO (1ull << 10)
#define CREST_VMF_IO (1ull << 11)
#define CREST_VMF_SR (1ull << 12)
#define CREST_VMF_RR (1ull << 13)
#define CREST_VMF_DC (1ull << 14)
#define CREST_VMF_DE (1ull << 15)
#define CREST_VMF_AC (1ull << 16)
#define CREST_VMF_NR (1ull << 17)
#define CREST_VMF_HT (1ull << 18)
#define CREST_VMF_SF (1ull << 19)
#define CREST_VMF_NL (1ull << 20)
#define CREST_VMF_AR (1ull << 21)
#define CREST_VMF_WF (1ull << 22)
#define CREST_VMF_DD (1ull << 23)
#define CREST_VMF_SD (1ull << 24)
#define CREST_VMF_MM (1ull << 25)
#define CREST_VMF_HG (1ull << 26)
#define CREST_VMF_NH (1ull << 27)
#define CREST_VMF_MG (1ull << 28)
#define CREST_VMF_UM (1ull << 29)
#define CREST_VMF_UW (1ull << 30)
#define CREST_VMF_SS (1ull << 31)
#define CREST_VMF_SL (1ull << 32)
#define CREST_VMF_BT (1ull << 33)
#define CREST_VMF_MT (1ull << 34)
#define CREST_VMF_DW (1ull << 35)
#define CREST_VMF_SE (1ull << 36)

enum crest_vma_kind {
	CREST_VMA_ANON = 0,       /* private anonymous */
	CREST_VMA_FILE = 1,       /* file mapping, file still exists */
	CREST_VMA_SHMEM = 2,      /* shared anonymous, memfd, SysV shm, or deleted file: content stored */
	CREST_VMA_HEAP = 3,
	CREST_VMA_STACK = 4,
	CREST_VMA_VDSO = 5,
	CREST_VMA_VVAR = 6,
	CREST_VMA_VVAR_VCLOCK = 7,
	CREST_VMA_VSYSCALL = 8,
	CREST_VMA_OTHER_SPECIAL = 9, /* another [name] the kernel shows */
};

enum {
	CREST_VMA_F_SHARED = 1u << 0,    /* MAP_SHARED ('s' in maps) */
	CREST_VMA_F_GROWSDOWN = 1u << 1,
	CREST_VMA_F_DELETED = 1u << 2,   /* backing file was unlinked */
	CREST_VMA_F_CONTENT = 1u << 3,   /* every byte that is not stored reads as zero
	                                  * (anonymous memory and shmem); otherwise
	                                  * unstored pages come from the file */
};

struct crest_vma_entry {
	uint64_t start, end;
	uint64_t pgoff;           /* byte offset into the file */
	uint64_t ino;
	uint32_t dev_major, dev_minor;
	uint32_t prot;            /* PROT_READ|PROT_WRITE|PROT_EXEC */
	uint32_t flags;           /* CREST_VMA_F_* */
	uint32_t kind;            /* enum crest_vma_kind */
	uint32_t path;            /* str: as /proc/PID/maps shows it, without " (deleted)" */
	uint64_t vmflags;         /* CREST_VMF_* bits */
	uint64_t file_size;       /* st_size of the file when dumped (FILE kind) */
	int64_t file_mtime_ns;    /* st_mtim of the file when dumped (FILE kind) */
	uint64_t stored;          /* bytes of this mapping stored in PT_LOAD segments */
	uint64_t rss;             /* resident bytes (smaps Rss) */
};
_Static_assert(sizeof(struct crest_vma_entry) == 96, "crest_vma_entry layout");

enum crest_fd_kind {
	CREST_FD_REG = 0, CREST_FD_DIR = 1, CREST_FD_CHR = 2, CREST_FD_BLK = 3,
	CREST_FD_FIFO = 4,        /* named FIFO or pipe */
	CREST_FD_SOCKET = 5,
	CREST_FD_EVENTFD = 6, CREST_FD_EPOLL = 7, CREST_FD_TIMERFD = 8,
	CREST_FD_SIGNALFD = 9, CREST_FD_INOTIFY = 10, CREST_FD_FANOTIFY = 11,
	CREST_FD_PIDFD = 12, CREST_FD_USERFAULTFD = 13, CREST_FD_IO_URING = 14,
	CREST_FD_MEMFD = 15,      /* regular file on an anonymous shmem inode */
	CREST_FD_OTHER_ANON = 16, /* another anon_inode */
	CREST_FD_UNKNOWN = 17,
};

enum {
	CREST_FD_F_CLOEXEC = 1u << 0,
	CREST_FD_F_UNSUPPORTED = 1u << 1, /* kind not restorable: recorded only (--skip-unsupported) */
	CREST_FD_F_DELETED = 1u << 2,
};

struct crest_fd_entry {
	int32_t fd;
	uint32_t kind;            /* enum crest_fd_kind */
	uint32_t flags;           /* CREST_FD_F_* */
	uint32_t open_flags;      /* O_* from fdinfo "flags:" */
	uint64_t pos;
	uint32_t mode;            /* st_mode */
	uint32_t mnt_id;
	uint64_t dev, ino, rdev, size;
	int64_t mtime_ns;
	uint32_t path;            /* str: readlink of /proc/PID/fd/N */
	uint32_t reserved;
};
_Static_assert(sizeof(struct crest_fd_entry) == 80, "crest_fd_entry layout");

/*
 * The checksum note (last note).  XXH3-64 over:
 *  - head_hash: the ELF header (64 bytes) followed by the file bytes
 *    [e_phoff, head_len): program headers and every note before this one
 *    (head_len = file offset of this note's header);
 *  - seg_hash[i]: the file contents of the i-th PT_LOAD segment;
 *  - self_hash: the bytes of this desc before self_hash.
 */
#define CREST_CSUM_XXH3_64 1
struct crest_checksum {
	uint32_t algo;            /* CREST_CSUM_XXH3_64 */
	uint32_t nseg;
	uint64_t head_len;
	uint64_t head_hash;
	/* uint64_t seg_hash[nseg]; uint64_t self_hash; */
};
_Static_assert(sizeof(struct crest_checksum) == 24, "crest_checksum layout");

#endif
