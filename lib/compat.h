/*
 * compat.h - kernel UAPI that Debian 12's 6.1 headers lack, written from the
 * kernel's documentation (Documentation/admin-guide/mm/pagemap.rst,
 * ioctl_pagemap_scan(2), ptrace(2)).  Each block is used only if the system
 * headers do not already define it.
 */
#ifndef CREST_COMPAT_H
#define CREST_COMPAT_H

#include <stdint.h>
#include <linux/fs.h>
#include <linux/ioctl.h>

/* PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7+). */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

struct page_region {
	uint64_t start;
	uint64_t end;        /* exclusive */
	uint64_t categories; /* PAGE_IS_* */
};

#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

struct pm_scan_arg {
	uint64_t size;       /* sizeof(struct pm_scan_arg) */
	uint64_t flags;
	uint64_t start, end;
	uint64_t walk_end;   /* out: where the walk stopped */
	uint64_t vec;        /* struct page_region array */
	uint64_t vec_len;
	uint64_t max_pages;  /* 0: no limit */
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/* ptrace requests newer than glibc 2.36's <sys/ptrace.h> knows. */
#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
struct crest_ptrace_rseq_configuration {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* prctl(PR_GET_TID_ADDRESS) (CONFIG_CHECKPOINT_RESTORE). */
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

#endif
