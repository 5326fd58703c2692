/*
 * regcheck - proves that dumping with --leave-running changes no register.
 *
 * A worker thread loads known constants into rbx, r8-r10, r12-r15, every
 * vector register it has (zmm1-31 and k1-k7 with AVX-512, else ymm1-15 with
 * AVX, else xmm1-15) and MXCSR, then spins in an asm loop that checks them
 * all and increments a memory counter; every 65536 rounds it calls
 * sched_yield so that a freeze can also catch it in a system call.  The loop
 * only ends on a mismatch: then "REGCHECK FAIL ..." goes to stderr and the
 * process exits 1.
 *
 * The main thread prints "pid=<pid> ready mode=<isa>" once the loop runs,
 * then "count=<n>" every 100 ms.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define C_RBX 0x0123456789abcdefULL
#define C_R8  0x1122334455667788ULL
#define C_R9  0x8877665544332211ULL
#define C_R10 0xdeadbeefcafebabeULL
#define C_R12 0x0f0e0d0c0b0a0908ULL
#define C_R13 0xa5a5a5a55a5a5a5aULL
#define C_R14 0x7fffffffffffffffULL
#define C_R15 0x8000000000000001ULL
/* MXCSR: all exceptions masked, round toward zero, flush-to-zero. */
#define C_MXCSR 0xff80u

/* Shared with the asm: offsets are hard-coded there. */
struct regblock {
	uint64_t vec[32][8];    /* 0: expected vector register i at i*64 */
	uint32_t mxcsr;         /* 2048 */
	uint32_t mxcsr_tmp;     /* 2052 */
	uint64_t got[8];        /* 2056: GPRs at the time of a mismatch */
};
_Static_assert(__builtin_offsetof(struct regblock, mxcsr) == 2048, "layout");
_Static_assert(__builtin_offsetof(struct regblock, got) == 2056, "layout");

static struct regblock block __attribute__((aligned(64)));
static uint64_t spin_count;   /* written by the asm loop only */
static const char *mode = "sse"; /* set by main before the spinner starts */

#define S(x) #x
#define STR(x) S(x)

#define GPR_LOAD \
	"movabs $" STR(C_RBX) ", %%rbx\n\t" \
	"movabs $" STR(C_R8) ", %%r8\n\t" \
	"movabs $" STR(C_R9) ", %%r9\n\t" \
	"movabs $" STR(C_R10) ", %%r10\n\t" \
	"movabs $" STR(C_R12) ", %%r12\n\t" \
	"movabs $" STR(C_R13) ", %%r13\n\t" \
	"movabs $" STR(C_R14) ", %%r14\n\t" \
	"movabs $" STR(C_R15) ", %%r15\n\t" \
	"ldmxcsr 2048(%%rsi)\n\t"

#define GPR_CK1(reg, c) "movabs $" STR(c) ", %%rax\n\tcmp %%rax, %%" reg "\n\tjne 9f\n\t"
#define GPR_CHECK \
	GPR_CK1("rbx", C_RBX) GPR_CK1("r8", C_R8) GPR_CK1("r9", C_R9) \
	GPR_CK1("r10", C_R10) GPR_CK1("r12", C_R12) GPR_CK1("r13", C_R13) \
	GPR_CK1("r14", C_R14) GPR_CK1("r15", C_R15) \
	"stmxcsr 2052(%%rsi)\n\t" \
	"mov 2052(%%rsi), %%eax\n\t" \
	"cmp 2048(%%rsi), %%eax\n\t" \
	"jne 9f\n\t"

/* Count, and every 65536 rounds sched_yield() (must return 0). */
#define LOOP_TAIL \
	"incq (%%rdi)\n\t" \
	"inc %%rdx\n\t" \
	"test $0xffff, %%edx\n\t" \
	"jnz 1b\n\t" \
	"mov $24, %%eax\n\t" \
	"syscall\n\t" \
	"test %%rax, %%rax\n\t" \
	"jnz 9f\n\t" \
	"jmp 1b\n" \
	"9:\n\t" \
	"mov %%rbx, 2056(%%rsi)\n\t" \
	"mov %%r8, 2064(%%rsi)\n\t" \
	"mov %%r9, 2072(%%rsi)\n\t" \
	"mov %%r10, 2080(%%rsi)\n\t" \
	"mov %%r12, 2088(%%rsi)\n\t" \
	"mov %%r13, 2096(%%rsi)\n\t" \
	"mov %%r14, 2104(%%rsi)\n\t" \
	"mov %%r15, 2112(%%rsi)\n\t"

#define GPR_CLOBBERS "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", \
	"r12", "r13", "r14", "r15", "memory", "cc"
#define XMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", \
	"xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#define XMM_HI_CLOBBERS "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", \
	"xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", \
	"xmm30", "xmm31"
#define K_CLOBBERS "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"

/* ---- SSE2 ---- */
#define SSE_LD(i) "movdqa " #i "*64(%%rsi), %%xmm" #i "\n\t"
#define SSE_CK(i) "movdqa %%xmm" #i ", %%xmm0\n\t" \
	"pcmpeqd " #i "*64(%%rsi), %%xmm0\n\t" \
	"pmovmskb %%xmm0, %%eax\n\t" \
	"cmp $0xffff, %%eax\n\t" \
	"jne 9f\n\t"
#define FOR15(M) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) \
	M(12) M(13) M(14) M(15)
#define FOR16_31(M) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23) M(24) \
	M(25) M(26) M(27) M(28) M(29) M(30) M(31)

static __attribute__((noinline)) void spin_sse(void)
{
	__asm__ volatile(
		GPR_LOAD
		FOR15(SSE_LD)
		"xor %%edx, %%edx\n"
		"1:\n\t"
		GPR_CHECK
		FOR15(SSE_CK)
		LOOP_TAIL
		:
		: "D"(&spin_count), "S"(&block)
		: GPR_CLOBBERS, XMM_CLOBBERS);
}

/* ---- AVX ---- */
#define AVX_LD(i) "vmovdqa " #i "*64(%%rsi), %%ymm" #i "\n\t"
#define AVX_CK(i) "vpxor " #i "*64(%%rsi), %%ymm" #i ", %%ymm0\n\t" \
	"vptest %%ymm0, %%ymm0\n\t" \
	"jnz 9f\n\t"

static __attribute__((noinline, target("avx"))) void spin_avx(void)
{
	__asm__ volatile(
		GPR_LOAD
		FOR15(AVX_LD)
		"xor %%edx, %%edx\n"
		"1:\n\t"
		GPR_CHECK
		FOR15(AVX_CK)
		LOOP_TAIL
		"vzeroupper\n\t"
		:
		: "D"(&spin_count), "S"(&block)
		: GPR_CLOBBERS, XMM_CLOBBERS);
}

/* ---- AVX-512 ---- */
#define Z_LD(i) "vmovdqa64 " #i "*64(%%rsi), %%zmm" #i "\n\t"
#define Z_CK(i) "vpxorq " #i "*64(%%rsi), %%zmm" #i ", %%zmm0\n\t" \
	"vptestmq %%zmm0, %%zmm0, %%k0\n\t" \
	"kortestw %%k0, %%k0\n\t" \
	"jnz 9f\n\t"
#define K_LD(i) "mov $(0x1111 * " #i "), %%eax\n\tkmovw %%eax, %%k" #i "\n\t"
#define K_CK(i) "kmovw %%k" #i ", %%eax\n\tcmp $(0x1111 * " #i "), %%eax\n\tjne 9f\n\t"
#define FOR_K(M) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

static __attribute__((noinline, target("avx512f"))) void spin_avx512(void)
{
	__asm__ volatile(
		GPR_LOAD
		FOR15(Z_LD) FOR16_31(Z_LD)
		FOR_K(K_LD)
		"xor %%edx, %%edx\n"
		"1:\n\t"
		GPR_CHECK
		FOR15(Z_CK) FOR16_31(Z_CK)
		FOR_K(K_CK)
		LOOP_TAIL
		"vzeroupper\n\t"
		:
		: "D"(&spin_count), "S"(&block)
		: GPR_CLOBBERS, XMM_CLOBBERS, XMM_HI_CLOBBERS, K_CLOBBERS);
}

static void report_failure(void)
{
	static const uint64_t want[8] = { C_RBX, C_R8, C_R9, C_R10, C_R12, C_R13, C_R14, C_R15 };
	static const char *const names[8] = { "rbx", "r8", "r9", "r10", "r12", "r13", "r14", "r15" };
	char buf[1024];
	int len = snprintf(buf, sizeof(buf), "REGCHECK FAIL (%s) after %" PRIu64 " rounds:", mode,
			   __atomic_load_n(&spin_count, __ATOMIC_RELAXED));
	int bad = 0;

	for (int i = 0; i < 8 && len > 0 && (size_t)len < sizeof(buf); i++) {
		if (block.got[i] != want[i]) {
			len += snprintf(buf + len, sizeof(buf) - (size_t)len, " %s=%#" PRIx64 " (want %#" PRIx64 ")",
					names[i], block.got[i], want[i]);
			bad = 1;
		}
	}
	if (!bad && len > 0 && (size_t)len < sizeof(buf))
		len += snprintf(buf + len, sizeof(buf) - (size_t)len,
				" vector/mask register, MXCSR or sched_yield result");
	if (len < 0 || (size_t)len >= sizeof(buf) - 1)
		len = (int)sizeof(buf) - 2;
	buf[len++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)len) < 0)
		_exit(1);
	_exit(1);
}

static void *spinner(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (strcmp(mode, "avx512") == 0)
		spin_avx512();
	else if (strcmp(mode, "avx") == 0)
		spin_avx();
	else
		spin_sse();
	report_failure();
	return NULL;
}

int main(void)
{
	pthread_t th;
	int rc;

	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 8; j++)
			block.vec[i][j] = 0x0101010101010101ULL * (uint64_t)(i + 1) ^ ((uint64_t)j << 56) ^
					  ((uint64_t)(j * 131 + i) << 20);
	block.mxcsr = C_MXCSR;

	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		mode = "avx512";
	else if (__builtin_cpu_supports("avx"))
		mode = "avx";
	rc = pthread_create(&th, NULL, spinner, NULL);
	if (rc != 0) {
		fprintf(stderr, "regcheck: pthread_create: %s\n", strerror(rc));
		return 1;
	}
	while (__atomic_load_n(&spin_count, __ATOMIC_RELAXED) == 0) {
		struct timespec ts = { 0, 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	printf("pid=%d ready mode=%s\n", (int)getpid(), mode);
	fflush(stdout);
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		printf("count=%" PRIu64 "\n", __atomic_load_n(&spin_count, __ATOMIC_RELAXED));
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
}
