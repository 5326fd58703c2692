/*
 * restorer.c - runs inside the new process and turns it into the image's
 * process.  Freestanding: no libc, no globals, position-independent; built
 * into a flat blob (restorer/restorer.lds puts the entry first) that crest
 * embeds and copies into a region no mapping of the image uses.
 *
 * crest's child jumps to rst_entry(args, stack) with the whole region
 * mapped.  The leader then:
 *   1. blocks every signal;
 *   2. moves [vvar], [vvar_vclock] and [vdso] into the region's scratch
 *      area, unmaps everything outside the region, and moves them on to the
 *      addresses the image recorded (glibc keeps pointers into them);
 *   3. creates every mapping of the image;
 *   4. reports MAPPED and waits while crest writes the pages in with
 *      process_vm_writev (the kernel allocates them as it copies: no
 *      trapping fault per page);
 *   5. sets the final protections, sigactions, umask, personality and the mm
 *      fields (PR_SET_MM_MAP), queues the process-wide pending signals;
 *   6. creates the other threads with clone3(set_tid) and, like each of
 *      them, sets its own robust list, clear_child_tid, rseq, sigaltstack,
 *      name and pending signals, reports READY and sleeps.
 * crest then stops every thread, unmaps this region from inside, and gives
 * each thread its registers and signal mask.  Any failure is reported on
 * the status pipe and ends the process: nothing half-restored stays alive.
 */
#include "restorer.h"

typedef unsigned long ul;

#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define NR_mremap 25
#define NR_madvise 28
#define NR_nanosleep 35
#define NR_getpid 39
#define NR_umask 95
#define NR_rt_sigqueueinfo 129
#define NR_sigaltstack 131
#define NR_personality 135
#define NR_prctl 157
#define NR_gettid 186
#define NR_set_tid_address 218
#define NR_exit_group 231
#define NR_set_robust_list 273
#define NR_rt_tgsigqueueinfo 297
#define NR_rseq 334
#define NR_setresuid 117
#define NR_setgroups 116
#define NR_setresgid 119
#define NR_setfsuid 122
#define NR_setfsgid 123
#define NR_capset 126
#define NR_prlimit64 302
#define NR_clone3 435

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_FIXED 0x10
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MADV_DONTFORK 10
#define MADV_DONTDUMP 16
#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15
#define MADV_WIPEONFORK 18
#define PR_SET_NAME 15
#define PR_SET_MM 35
#define PR_SET_MM_MAP 14
#define SS_DISABLE 2
#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

void rst_main(struct rst_args *a);
void rst_thread_main(struct rst_args *a, struct rst_thread *t);
long rst_clone3(void *cl_args, ul size, struct rst_args *a, struct rst_thread *t);

/* The entry: rdi = args, rsi = top of the leader's stack.  First in the
 * blob (section .text.entry).  Also the thread trampoline for clone3. */
__asm__(".section .text.entry,\"ax\",@progbits\n"
	".globl rst_entry\n"
	"rst_entry:\n"
	"	mov %rsi, %rsp\n"
	"	and $-16, %rsp\n"
	"	call rst_main\n"
	"	ud2\n"
	".text\n"
	".globl rst_clone3\n"
	"rst_clone3:\n"
	"	mov %rdx, %r8\n"         /* args: survives the syscall in both */
	"	mov %rcx, %r9\n"         /* thread */
	"	mov $435, %eax\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	mov %r8, %rdi\n"          /* child, on its new stack */
	"	mov %r9, %rsi\n"
	"	and $-16, %rsp\n"
	"	call rst_thread_main\n"
	"	ud2\n"
	"1:	ret\n");

static void *at(struct rst_args *a, uint64_t off)
{
	return (char *)a + off;
}

static void say(struct rst_args *a, uint32_t kind, uint32_t phase, long err, uint64_t detail)
{
	struct rst_msg m = {.kind = kind, .phase = phase, .err = err, .detail = detail};
	sys3(NR_write, a->status_fd, &m, sizeof(m));
}

__attribute__((noreturn)) static void die(struct rst_args *a, uint32_t phase, long err, uint64_t detail)
{
	say(a, RST_MSG_ERROR, phase, err, detail);
	for (;;)
		sys3(NR_exit_group, 127, 0, 0);
}

static void check(struct rst_args *a, long r, uint32_t phase, uint64_t detail)
{
	if (r < 0 && r > -4096)
		die(a, phase, r, detail);
}

static void sleep_forever(void)
{
	struct {
		long sec, nsec;
	} ts = {3600, 0};
	for (;;)
		sys3(NR_nanosleep, &ts, 0, 0);
}

/* The image's credentials, for the calling thread: groups and gids, the
 * bounding set, then the uids (keeping capabilities across the switch),
 * the three capability sets, ambient capabilities and no_new_privs. */
static void set_creds(struct rst_args *a, uint32_t tid)
{
	check(a, sys3(NR_setgroups, a->ngroups, at(a, a->groups_off), 0), RST_PH_CREDS, tid);
	check(a, sys3(NR_setresgid, a->gid[0], a->gid[1], a->gid[2]), RST_PH_CREDS, tid);
	sys3(NR_setfsgid, a->gid[3], 0, 0);
	for (int cap = 0; cap < 64; cap++)
		if (!(a->cap_bnd & (1ull << cap)))
			sys3(NR_prctl, 24 /* PR_CAPBSET_DROP */, cap, 0); /* EINVAL past the last cap */
	sys3(NR_prctl, 8 /* PR_SET_KEEPCAPS */, 1, 0);
	check(a, sys3(NR_setresuid, a->uid[0], a->uid[1], a->uid[2]), RST_PH_CREDS, tid);
	sys3(NR_setfsuid, a->uid[3], 0, 0);
	struct {
		uint32_t version;
		int32_t pid;
	} hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
	struct {
		uint32_t eff, prm, inh;
	} data[2] = {{(uint32_t)a->cap_eff, (uint32_t)a->cap_prm, (uint32_t)a->cap_inh},
		     {(uint32_t)(a->cap_eff >> 32), (uint32_t)(a->cap_prm >> 32), (uint32_t)(a->cap_inh >> 32)}};
	check(a, sys3(NR_capset, &hdr, data, 0), RST_PH_CREDS, tid);
	sys3(NR_prctl, 8 /* PR_SET_KEEPCAPS */, 0, 0);
	for (int cap = 0; cap < 64; cap++)
		if (a->cap_amb & (1ull << cap))
			check(a, sys5(NR_prctl, 47 /* PR_CAP_AMBIENT */, 2 /* RAISE */, cap, 0, 0), RST_PH_CREDS, tid);
	if (a->no_new_privs)
		check(a, sys5(NR_prctl, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0), RST_PH_CREDS, tid);
}

/* Per-thread kernel state only the thread can set for itself. */
static void thread_setup(struct rst_args *a, struct rst_thread *t)
{
	long tid = sys3(NR_gettid, 0, 0, 0);
	if (t->robust_list)
		check(a, sys3(NR_set_robust_list, t->robust_list, t->robust_list_len, 0), RST_PH_THREAD, t->tid);
	sys3(NR_set_tid_address, t->clear_child_tid, 0, 0);
	if (t->rseq_addr)
		check(a, sys4(NR_rseq, t->rseq_addr, t->rseq_len, 0, t->rseq_sig), RST_PH_THREAD, t->tid);
	if (!(t->altstack_flags & SS_DISABLE) && t->altstack_size) {
		struct {
			uint64_t sp;
			int32_t flags, pad;
			uint64_t size;
		} ss = {t->altstack_sp, (int32_t)(t->altstack_flags & ~1u /* SS_ONSTACK is not settable */), 0,
			t->altstack_size};
		check(a, sys3(NR_sigaltstack, &ss, 0, 0), RST_PH_THREAD, t->tid);
	}
	check(a, sys3(NR_prctl, PR_SET_NAME, t->comm, 0), RST_PH_THREAD, t->tid);
	/* Signals queued to this thread: only the thread itself may queue
	 * user-coded siginfos to itself.  Every signal is blocked here, so
	 * they stay pending until the real mask comes back. */
	const uint8_t *q = at(a, t->sigq_off);
	for (uint32_t i = 0; i < t->nsigq; i++, q += 128) {
		int32_t signo = *(const int32_t *)(const void *)q;
		check(a, sys4(NR_rt_tgsigqueueinfo, sys3(NR_getpid, 0, 0, 0), tid, signo, q), RST_PH_SIGQUEUE, t->tid);
	}
	/* last: nothing after this may need crest's privileges */
	if (a->creds)
		set_creds(a, t->tid);
}

void rst_thread_main(struct rst_args *a, struct rst_thread *t)
{
	thread_setup(a, t);
	say(a, RST_MSG_READY, 0, 0, t->tid);
	sleep_forever();
}

static void move_specials(struct rst_args *a, int to_scratch)
{
	struct rst_move *mv = at(a, a->move_off);
	uint64_t base = ~0ull;
	for (uint32_t i = 0; i < a->nmove; i++)
		if (mv[i].to < base)
			base = mv[i].to;
	for (uint32_t i = 0; i < a->nmove; i++) {
		/* In the scratch area they keep the image's relative layout. */
		uint64_t scratch = a->scratch + (mv[i].to - base);
		uint64_t from = to_scratch ? mv[i].from : scratch;
		uint64_t to = to_scratch ? scratch : mv[i].to;
		long r = sys5(NR_mremap, from, mv[i].len, mv[i].len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		check(a, r, RST_PH_VDSO, to);
	}
}

void rst_main(struct rst_args *a)
{
	uint64_t all = ~0ull;
	sys4(NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &all, 0, 8);
	if (a->magic != RST_MAGIC)
		die(a, RST_PH_MISC, -22, 0);

	move_specials(a, 1);
	if (a->blob_start)
		check(a, sys3(NR_munmap, 0, a->blob_start, 0), RST_PH_UNMAP, 0);
	check(a, sys3(NR_munmap, a->blob_end, a->task_size - a->blob_end, 0), RST_PH_UNMAP, a->blob_end);
	move_specials(a, 0);

	struct rst_vma *v = at(a, a->vma_off);
	for (uint32_t i = 0; i < a->nvma; i++) {
		uint32_t prot = v[i].fill ? (v[i].prot | PROT_READ | PROT_WRITE) : v[i].prot;
		long r = sys6(NR_mmap, (long)v[i].start, (long)(v[i].end - v[i].start), prot,
			      v[i].map_flags | MAP_FIXED, v[i].fd, (long)v[i].pgoff);
		if (r != (long)v[i].start)
			die(a, RST_PH_MAP, r < 0 ? r : -17, i);
		static const uint32_t madv[][2] = {
			{RST_MADV_DONTFORK, MADV_DONTFORK}, {RST_MADV_DONTDUMP, MADV_DONTDUMP},
			{RST_MADV_HUGEPAGE, MADV_HUGEPAGE}, {RST_MADV_NOHUGEPAGE, MADV_NOHUGEPAGE},
			{RST_MADV_WIPEONFORK, MADV_WIPEONFORK},
		};
		for (unsigned k = 0; k < sizeof(madv) / sizeof(madv[0]); k++)
			if (v[i].madv & madv[k][0])
				sys3(NR_madvise, v[i].start, v[i].end - v[i].start, madv[k][1]);
	}
	for (uint32_t i = 0; i < a->nvma; i++)
		if (v[i].fd >= 0)
			sys3(NR_close, v[i].fd, 0, 0);

	say(a, RST_MSG_MAPPED, 0, 0, 0);
	char go;
	if (sys3(NR_read, a->go_fd, &go, 1) != 1)
		die(a, RST_PH_WAIT, -5, 0); /* crest went away: do not run half-filled */
	sys3(NR_close, a->image_fd, 0, 0);

	for (uint32_t i = 0; i < a->nvma; i++)
		if (v[i].fill && v[i].prot != (v[i].prot | PROT_READ | PROT_WRITE))
			check(a, sys3(NR_mprotect, v[i].start, v[i].end - v[i].start, v[i].prot), RST_PH_PROTECT, i);

	for (int sig = 1; sig <= 64; sig++)
		if (a->act_set & (1ull << (sig - 1)))
			check(a, sys4(NR_rt_sigaction, sig, &a->act[sig - 1], 0, 8), RST_PH_SIGACTION, (uint64_t)sig);
	sys3(NR_umask, a->umask, 0, 0);
	check(a, sys3(NR_personality, a->personality, 0, 0), RST_PH_MISC, a->personality);

	a->mm.auxv = (uint64_t)(ul)at(a, a->auxv_off);
	check(a, sys5(NR_prctl, PR_SET_MM, PR_SET_MM_MAP, &a->mm, sizeof(a->mm), 0), RST_PH_MM, 0);
	sys3(NR_close, a->mm.exe_fd, 0, 0);

	/* Process-wide pending signals, queued by the leader to its process. */
	const uint8_t *q = at(a, a->shq_off);
	long pid = sys3(NR_getpid, 0, 0, 0);
	for (uint32_t i = 0; i < a->nshq; i++, q += 128) {
		int32_t signo = *(const int32_t *)(const void *)q;
		check(a, sys3(NR_rt_sigqueueinfo, pid, signo, q), RST_PH_SIGQUEUE, (uint64_t)signo);
	}

	/* Resource limits, while still privileged.  Raising a hard limit needs
	 * CAP_SYS_RESOURCE: without it, keep the current hard limit. */
	for (int k = 0; k < 16; k++) {
		uint64_t want[2] = {a->rlim[k][0], a->rlim[k][1]}, have[2];
		if (sys4(NR_prlimit64, 0, k, want, 0) == 0)
			continue;
		if (sys4(NR_prlimit64, 0, k, 0, have) < 0)
			continue;
		want[1] = have[1];
		if (want[0] > want[1])
			want[0] = want[1];
		sys4(NR_prlimit64, 0, k, want, 0);
	}

	struct rst_thread *t = at(a, a->thread_off);
	for (uint32_t i = 1; i < a->nthreads; i++) {
		uint64_t tid = t[i].tid;
		struct {
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
			uint64_t set_tid, set_tid_size, cgroup;
		} cl = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
			.stack = t[i].stack_top - RST_STACK_SIZE,
			.stack_size = RST_STACK_SIZE,
			.set_tid = (uint64_t)(ul)&tid,
			.set_tid_size = 1,
		};
		long r = rst_clone3(&cl, sizeof(cl), a, &t[i]);
		check(a, r, RST_PH_THREAD, t[i].tid);
	}
	thread_setup(a, &t[0]);
	say(a, RST_MSG_READY, 0, 0, t[0].tid);
	sleep_forever();
}
