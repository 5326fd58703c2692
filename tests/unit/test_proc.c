/*
 * test_proc.c - unit tests for lib/proc.c: the /proc parsers on hand-written
 * text (including the nasty cases), and the live helpers on this process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "proc.h"

/* Assert that err holds an error with errno `code` whose message contains
 * every given substring, then free it. */
static void check_err(crest_error **err, int code, const char *sub1, const char *sub2)
{
	assert_non_null(*err);
	assert_int_equal(crest_error_code(*err), code);
	const char *msg = crest_error_message(*err);
	if (sub1 && !strstr(msg, sub1))
		fail_msg("message \"%s\" lacks \"%s\"", msg, sub1);
	if (sub2 && !strstr(msg, sub2))
		fail_msg("message \"%s\" lacks \"%s\"", msg, sub2);
	crest_error_free(*err);
	*err = NULL;
}

/* ---- maps ---------------------------------------------------------------- */

static const char maps_text[] =
	"5626a071a000-5626a071c000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n"
	"5626a071c000-5626a0721000 r-xp 00002000 fe:00 247134                     /usr/bin/cat\n"
	"5626bca1b000-5626bca3c000 rw-p 00000000 00:00 0                          [heap]\n"
	"7fd7ef126000-7fd7ef148000 rw-p 00000000 00:00 0 \n"
	"7fd7ef148000-7fd7ef149000 ---p 00000000 00:00 0\n"
	"7fd7ef38e000-7fd7ef395000 r--s 00000000 fe:00 332280                     /usr/lib/gconv modules.cache\n"
	"7fd7ef398000-7fd7ef39c000 r--p 00000000 00:00 0                          [vvar]\n"
	"7fd7ef39c000-7fd7ef39e000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
	"7fd7ef39e000-7fd7ef3a0000 r-xp 00000000 00:00 0                          [vdso]\n"
	"7fffece3e000-7fffece5f000 rw-p 00000000 00:00 0                          [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void test_maps_basic(void **state)
{
	(void)state;
	struct crest_proc_vmas vm = {0};
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_maps(maps_text, &vm, &err), 0);
	assert_null(err);
	assert_int_equal(vm.n, 11);

	assert_int_equal(vm.v[0].start, 0x5626a071a000ull);
	assert_int_equal(vm.v[0].end, 0x5626a071c000ull);
	assert_int_equal(vm.v[0].prot, PROT_READ);
	assert_false(vm.v[0].shared);
	assert_int_equal(vm.v[0].dev_major, 0xfe);
	assert_int_equal(vm.v[0].dev_minor, 0);
	assert_int_equal(vm.v[0].ino, 247134);
	assert_string_equal(vm.v[0].path, "/usr/bin/cat");
	assert_false(vm.v[0].deleted);

	assert_int_equal(vm.v[1].pgoff, 0x2000);
	assert_int_equal(vm.v[1].prot, PROT_READ | PROT_EXEC);
	assert_string_equal(vm.v[2].path, "[heap]");
	assert_int_equal(vm.v[2].prot, PROT_READ | PROT_WRITE);
	/* anonymous, with and without the kernel's trailing blank */
	assert_null(vm.v[3].path);
	assert_null(vm.v[4].path);
	assert_int_equal(vm.v[4].prot, 0);
	assert_true(vm.v[5].shared);
	assert_string_equal(vm.v[5].path, "/usr/lib/gconv modules.cache");
	assert_string_equal(vm.v[6].path, "[vvar]");
	assert_string_equal(vm.v[7].path, "[vvar_vclock]");
	assert_string_equal(vm.v[8].path, "[vdso]");
	assert_string_equal(vm.v[9].path, "[stack]");
	assert_int_equal(vm.v[10].start, 0xffffffffff600000ull);
	assert_int_equal(vm.v[10].prot, PROT_EXEC);
	assert_string_equal(vm.v[10].path, "[vsyscall]");
	/* smaps fields stay zero until parse_smaps */
	assert_int_equal(vm.v[0].vmflags, 0);
	assert_int_equal(vm.v[0].rss, 0);

	crest_proc_vmas_free(&vm);
	assert_null(vm.v);
	assert_int_equal(vm.n, 0);
	crest_proc_vmas_free(&vm); /* twice is harmless */
}

static void test_maps_paths(void **state)
{
	(void)state;
	static const char text[] =
		"1000-2000 r--s 00000000 fe:00 10952780                   /tmp/probe/x y (deleted)\n"
		"2000-3000 rw-s 00000000 00:01 1026                       /dev/zero (deleted)\n"
		"3000-4000 rw-p 00000000 00:00 0                          [anon:my name]\n"
		"4000-5000 rw-s 00000000 00:01 7                          /memfd:a (b) c (deleted)\n"
		"5000-6000 r--p 00001000 103:2a 99 /tmp/  two  spaces  \n"
		"6000-7000 r--p 00000000 fe:00 5                          /tmp/(deleted)\n"
		"7000-8000 rw-p 00000000 00:00 0                          [anon_shmem:x]\n"
		"8000-9000 r--p 00000000 fe:00 6 /no/newline";
	struct crest_proc_vmas vm = {0};
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_maps(text, &vm, &err), 0);
	assert_int_equal(vm.n, 8);
	assert_string_equal(vm.v[0].path, "/tmp/probe/x y");
	assert_true(vm.v[0].deleted);
	assert_true(vm.v[0].shared);
	assert_string_equal(vm.v[1].path, "/dev/zero");
	assert_true(vm.v[1].deleted);
	assert_string_equal(vm.v[2].path, "[anon:my name]");
	assert_false(vm.v[2].deleted);
	assert_string_equal(vm.v[3].path, "/memfd:a (b) c");
	assert_true(vm.v[3].deleted);
	/* inner and trailing blanks are part of the name; short padding is fine */
	assert_string_equal(vm.v[4].path, "/tmp/  two  spaces  ");
	assert_int_equal(vm.v[4].dev_major, 0x103);
	assert_int_equal(vm.v[4].dev_minor, 0x2a);
	assert_int_equal(vm.v[4].pgoff, 0x1000);
	/* "(deleted)" without the blank is a name, not the suffix */
	assert_string_equal(vm.v[5].path, "/tmp/(deleted)");
	assert_false(vm.v[5].deleted);
	assert_string_equal(vm.v[6].path, "[anon_shmem:x]");
	assert_string_equal(vm.v[7].path, "/no/newline");
	crest_proc_vmas_free(&vm);
}

static void test_maps_empty(void **state)
{
	(void)state;
	struct crest_proc_vmas vm = { (void *)1, 5 };
	crest_error *err = NULL;
	/* a kernel thread has an empty maps file */
	assert_int_equal(crest_proc_parse_maps("", &vm, &err), 0);
	assert_null(err);
	assert_int_equal(vm.n, 0);
	assert_null(vm.v);
}

static void test_maps_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *what;
	} bad[] = {
		{ "zzzz-2000 r--p 00000000 fe:00 1 /x", "start address" },
		{ "1000 r--p 00000000 fe:00 1 /x", "start address" },
		{ "1000-2000r--p 00000000 fe:00 1 /x", "end address" },
		{ "2000-1000 r--p 00000000 fe:00 1 /x", "end is below the start" },
		{ "1000-2000 rwzp 00000000 fe:00 1 /x", "permissions" },
		{ "1000-2000 rw 00000000 fe:00 1 /x", "permissions" },
		{ "1000-2000 r--p 0000g000 fe:00 1 /x", "offset" },
		{ "1000-2000 r--p 00000000 fe00 1 /x", "device" },
		{ "1000-2000 r--p 00000000 fe:00", "device" },
		{ "1000-2000 r--p 00000000 fe:00 12a /x", "inode" },
		{ "1000-2000 r--p 00000000 fe:00 -1 /x", "inode" },
		{ "11112222333344445-2000 r--p 00000000 fe:00 1 /x", "start address" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[256];
		snprintf(text, sizeof(text), "1000-2000 r--p 00000000 fe:00 1 /ok\n%s\n3000-4000 r--p 0 0:0 0\n",
			 bad[i].line);
		struct crest_proc_vmas vm = { (void *)1, 5 };
		crest_error *err = NULL;
		int r = crest_proc_parse_maps(text, &vm, &err);
		if (r != -EINVAL)
			fail_msg("\"%s\" gave %d", bad[i].line, r);
		assert_null(vm.v);
		assert_int_equal(vm.n, 0);
		check_err(&err, EINVAL, "maps line 2: cannot parse", bad[i].what);
	}
	/* a NULL err is allowed */
	struct crest_proc_vmas vm = {0};
	assert_int_equal(crest_proc_parse_maps("garbage\n", &vm, NULL), -EINVAL);
}

/* ---- smaps --------------------------------------------------------------- */

static void test_vmflag_bit(void **state)
{
	(void)state;
	static const char codes[] = CREST_VMF_CODES;
	size_t n = 0;
	for (size_t i = 0; i + 1 < sizeof(codes) - 1; i += 3, n++)
		assert_int_equal(crest_proc_vmflag_bit(&codes[i]), 1ull << n);
	assert_int_equal(n, 37);
	assert_int_equal(crest_proc_vmflag_bit("rd"), CREST_VMF_RD);
	assert_int_equal(crest_proc_vmflag_bit("gd"), CREST_VMF_GD);
	assert_int_equal(crest_proc_vmflag_bit("se"), CREST_VMF_SE);
	assert_int_equal(crest_proc_vmflag_bit("sl"), CREST_VMF_SL);
	assert_int_equal(crest_proc_vmflag_bit("zz"), 0);
	assert_int_equal(crest_proc_vmflag_bit("d "), 0); /* straddles two codes */
	assert_int_equal(crest_proc_vmflag_bit(" w"), 0);
	assert_int_equal(crest_proc_vmflag_bit("RD"), 0);
}

static const char smaps_text[] =
	"1000-3000 r-xp 00000000 fe:00 247134                     /usr/bin/my prog (deleted)\n"
	"Size:                  8 kB\n"
	"KernelPageSize:        4 kB\n"
	"Rss:                   8 kB\n"
	"Anonymous:             0 kB\n"
	"THPeligible:           0\n"
	"VmFlags: rd ex mr mw me zz xyz \n"
	"5000-6000 rw-p 00000000 00:00 0 \n"
	"Rss:                   4 kB\n"
	"Anonymous:             4 kB\n"
	"VmFlags: rd wr mr mw me ac\n"
	"9000-a000 rw-p 00000000 00:00 0                          [not in maps]\n"
	"Rss:                 400 kB\n"
	"VmFlags: rd wr\n"
	"7ffd7edbb000-7ffd7eddc000 rw-p 00000000 00:00 0                          [stack]\n"
	"Rss:                 132 kB\n"
	"Anonymous:           132 kB\n"
	"ProtectionKey:         0\n"
	"VmFlags: rd wr mr mw me gd ac";

static void test_smaps_basic(void **state)
{
	(void)state;
	static const char maps[] =
		"1000-3000 r-xp 00000000 fe:00 247134                     /usr/bin/my prog (deleted)\n"
		"3000-4000 r--p 00000000 00:00 0\n"
		"5000-6000 rw-p 00000000 00:00 0 \n"
		"7ffd7edbb000-7ffd7eddc000 rw-p 00000000 00:00 0                          [stack]\n";
	struct crest_proc_vmas vm = {0};
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_maps(maps, &vm, &err), 0);
	assert_int_equal(vm.n, 4);
	assert_int_equal(crest_proc_parse_smaps(smaps_text, &vm, &err), 0);
	assert_null(err);

	assert_int_equal(vm.v[0].rss, 8192);
	assert_int_equal(vm.v[0].anonymous, 0);
	assert_int_equal(vm.v[0].vmflags, CREST_VMF_RD | CREST_VMF_EX | CREST_VMF_MR | CREST_VMF_MW | CREST_VMF_ME);
	/* not in smaps: untouched */
	assert_int_equal(vm.v[1].rss, 0);
	assert_int_equal(vm.v[1].vmflags, 0);
	assert_int_equal(vm.v[2].rss, 4096);
	assert_int_equal(vm.v[2].anonymous, 4096);
	assert_int_equal(vm.v[2].vmflags,
			 CREST_VMF_RD | CREST_VMF_WR | CREST_VMF_MR | CREST_VMF_MW | CREST_VMF_ME | CREST_VMF_AC);
	assert_int_equal(vm.v[3].rss, 132 * 1024);
	assert_int_equal(vm.v[3].anonymous, 132 * 1024);
	assert_true(vm.v[3].vmflags & CREST_VMF_GD);
	crest_proc_vmas_free(&vm);
}

static void test_smaps_unsorted_vmas(void **state)
{
	(void)state;
	/* vmas out of order still match by start address */
	static const char maps[] =
		"7ffd7edbb000-7ffd7eddc000 rw-p 00000000 00:00 0                          [stack]\n"
		"5000-6000 rw-p 00000000 00:00 0 \n"
		"1000-3000 r-xp 00000000 fe:00 247134                     /usr/bin/my prog\n";
	struct crest_proc_vmas vm = {0};
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_maps(maps, &vm, &err), 0);
	assert_int_equal(crest_proc_parse_smaps(smaps_text, &vm, &err), 0);
	assert_int_equal(vm.v[0].rss, 132 * 1024);
	assert_int_equal(vm.v[1].anonymous, 4096);
	assert_int_equal(vm.v[2].rss, 8192);
	assert_true(vm.v[2].vmflags & CREST_VMF_EX);
	crest_proc_vmas_free(&vm);
}

static void test_smaps_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *sub1, *sub2;
	} bad[] = {
		{ "1000-2000 rw-p 0 0:0 0\nRss: 4 MB\n", "smaps line 2", "Rss: <number> kB" },
		{ "1000-2000 rw-p 0 0:0 0\nRss: four kB\n", "smaps line 2", "Rss" },
		{ "1000-2000 rw-p 0 0:0 0\nSize: 4 kB\nAnonymous: -4 kB\n", "smaps line 3", "Anonymous" },
		{ "1000-2000 rw-p 0 0:0 0\nRss 4 kB\n", "smaps line 2", "neither a mapping header" },
		{ "Rss: 4 kB\n1000-2000 rw-p 0 0:0 0\n", "smaps line 1", "before the first mapping header" },
		{ "1000-2000 rw-p 0 0:0 0\nVmFlags: rd\n3000-2000 rw-p 0 0:0 0\n", "smaps line 3", "below the start" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct crest_proc_vmas vm = {0};
		crest_error *err = NULL;
		assert_int_equal(crest_proc_parse_maps("1000-2000 rw-p 0 0:0 0\n", &vm, &err), 0);
		int r = crest_proc_parse_smaps(bad[i].text, &vm, &err);
		if (r != -EINVAL)
			fail_msg("case %zu gave %d", i, r);
		check_err(&err, EINVAL, bad[i].sub1, bad[i].sub2);
		crest_proc_vmas_free(&vm);
	}
}

/* ---- stat ---------------------------------------------------------------- */

/* Build a stat line: "<pid> (<comm>) <rest>" where rest has fields 3..52. */
static char *make_stat(const char *comm, const char *tail_override)
{
	static const char rest[] =
		"S 3720 3721 2302 0 -1 4194560 81 0 0 0 0 0 0 0 20 0 3 0 87986 2551808 342 "
		"18446744073709551615 94164726644736 94164726646749 140726731908848 0 0 0 65536 6 0 1 0 0 17 0 0 "
		"0 0 0 0 94164726656464 94164726657240 94165505318912 140726731913695 140726731913699 "
		"140726731913699 140726731915252 256\n";
	char *s = NULL;
	if (asprintf(&s, "3729 (%s) %s", comm, tail_override ? tail_override : rest) < 0)
		fail();
	return s;
}

static void test_stat_nasty_comm(void **state)
{
	(void)state;
	static const char *const comms[] = { "a) b (c", "x)", "(", ") S 1 2 3", "new\nline)", "" };
	for (size_t i = 0; i < ARRAY_SIZE(comms); i++) {
		char *text = make_stat(comms[i], NULL);
		struct crest_proc_stat st;
		crest_error *err = NULL;
		int r = crest_proc_parse_stat(text, &st, &err);
		if (r != 0)
			fail_msg("comm \"%s\": %d %s", comms[i], r, crest_error_message(err));
		assert_int_equal(st.pid, 3729);
		assert_string_equal(st.comm, comms[i]);
		assert_int_equal(st.state, 'S');
		assert_int_equal(st.ppid, 3720);
		assert_int_equal(st.pgrp, 3721);
		assert_int_equal(st.session, 2302);
		assert_int_equal(st.flags, 4194560);
		assert_int_equal(st.num_threads, 3);
		assert_int_equal(st.starttime, 87986);
		assert_int_equal(st.start_code, 94164726644736ul);
		assert_int_equal(st.end_code, 94164726646749ul);
		assert_int_equal(st.start_stack, 140726731908848ul);
		assert_int_equal(st.start_data, 94164726656464ul);
		assert_int_equal(st.end_data, 94164726657240ul);
		assert_int_equal(st.start_brk, 94165505318912ul);
		assert_int_equal(st.arg_start, 140726731913695ul);
		assert_int_equal(st.arg_end, 140726731913699ul);
		assert_int_equal(st.env_start, 140726731913699ul);
		assert_int_equal(st.env_end, 140726731915252ul);
		assert_int_equal(st.exit_code, 256);
		free(text);
	}
}

static void test_stat_long_comm_and_kthread(void **state)
{
	(void)state;
	/* kernel threads show up to 63 bytes; longer is cut, not an error */
	char comm[100];
	memset(comm, 'k', sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = '\0';
	char *text = make_stat(comm, NULL);
	struct crest_proc_stat st;
	assert_int_equal(crest_proc_parse_stat(text, &st, NULL), 0);
	assert_int_equal(strlen(st.comm), 63);
	assert_int_equal(st.comm[62], 'k');
	free(text);

	/* a kernel thread: PF_KTHREAD, mm fields zero, extra trailing fields */
	text = make_stat("kworker/u8:1-events_unbound",
			 "I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 11 0 0 18446744073709551615 0 0 0 0 0 0 0 "
			 "2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 -9 77 88");
	assert_int_equal(crest_proc_parse_stat(text, &st, NULL), 0);
	assert_int_equal(st.state, 'I');
	assert_true(st.flags & 0x00200000ul);
	assert_int_equal(st.start_code, 0);
	assert_int_equal(st.exit_code, -9);
	assert_string_equal(st.comm, "kworker/u8:1-events_unbound");
	free(text);
}

static void test_stat_malformed(void **state)
{
	(void)state;
	crest_error *err = NULL;
	struct crest_proc_stat st;

	assert_int_equal(crest_proc_parse_stat("3729 (cat R 1 2 3", &st, &err), -EINVAL);
	check_err(&err, EINVAL, "stat", "no ')'");

	assert_int_equal(crest_proc_parse_stat("cat) R 1 2 3", &st, &err), -EINVAL);
	check_err(&err, EINVAL, "stat", "PID (COMM)");

	assert_int_equal(crest_proc_parse_stat("", &st, &err), -EINVAL);
	check_err(&err, EINVAL, "stat", NULL);

	assert_int_equal(crest_proc_parse_stat("3729 (cat) R 1 2 3 0 -1\n", &st, &err), -EINVAL);
	check_err(&err, EINVAL, "has 8 fields", "at least 52");

	char *text = make_stat("cat", "R x 1 2 0 -1 4194560 81 0 0 0 0 0 0 0 20 0 3 0 87986 2551808 342 1 1 1 1 0 0 0 0 0 "
				      "0 0 0 0 17 0 0 0 0 0 0 1 1 1 1 1 1 1 0\n");
	assert_int_equal(crest_proc_parse_stat(text, &st, &err), -EINVAL);
	check_err(&err, EINVAL, "field 4 (ppid)", "\"x\"");
	free(text);

	text = make_stat("cat", "RS 1 1 2 0 -1 4194560 81 0 0 0 0 0 0 0 20 0 3 0 87986 2551808 342 1 1 1 1 0 0 0 0 0 "
				"0 0 0 0 17 0 0 0 0 0 0 1 1 1 1 1 1 1 0\n");
	assert_int_equal(crest_proc_parse_stat(text, &st, &err), -EINVAL);
	check_err(&err, EINVAL, "field 3 (state)", NULL);
	free(text);

	/* pid out of int range; session overflowing int */
	assert_int_equal(crest_proc_parse_stat("99999999999 (x) R 1", &st, &err), -EINVAL);
	check_err(&err, EINVAL, "stat", NULL);
	text = make_stat("cat", "R 1 1 4294967296 0 -1 4194560 81 0 0 0 0 0 0 0 20 0 3 0 87986 2551808 342 1 1 1 1 0 0 "
				"0 0 0 0 0 0 0 17 0 0 0 0 0 0 1 1 1 1 1 1 1 0\n");
	assert_int_equal(crest_proc_parse_stat(text, &st, &err), -EINVAL);
	check_err(&err, EINVAL, "field 6 (session)", NULL);
	free(text);
}

/* ---- status -------------------------------------------------------------- */

static const char status_full[] =
	"Name:\tmy prog\n"
	"Umask:\t0027\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t3503\n"
	"Ngid:\t0\n"
	"Pid:\t3504\n"
	"PPid:\t3499\n"
	"TracerPid:\t77\n"
	"Uid:\t1000\t1001\t1002\t4294967294\n"
	"Gid:\t100\t101\t102\t103\n"
	"FDSize:\t256\n"
	"Groups:\t10 20 4294967295 \n"
	"NStgid:\t3503\t12\n"
	"NSpid:\t3504\t13\t1\n"
	"Kthread:\t0\n"
	"VmPeak:\t    3060 kB\n"
	"Threads:\t2\n"
	"SigQ:\t0/96364\n"
	"SigPnd:\t0000000000000100\n"
	"ShdPnd:\t8000000000000000\n"
	"SigBlk:\t0000000000010000\n"
	"SigIgn:\t0000000000001000\n"
	"SigCgt:\tfffffffe7ffbfeff\n"
	"CapInh:\t0000000000000000\n"
	"CapPrm:\t000001fffeffffff\n"
	"CapEff:\t000001FFFEFFFFFF\n"
	"CapBnd:\t000001fffeffffff\n"
	"CapAmb:\t0000000000000003\n"
	"NoNewPrivs:\t1\n"
	"Seccomp:\t2\n"
	"Seccomp_filters:\t1\n"
	"Speculation_Store_Bypass:\tvulnerable\n"
	"Cpus_allowed_list:\t0-1\n"
	"voluntary_ctxt_switches:\t0\n";

static void test_status_full(void **state)
{
	(void)state;
	struct crest_proc_status st;
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_status(status_full, &st, &err), 0);
	assert_null(err);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.tgid, 3503);
	assert_int_equal(st.pid, 3504);
	assert_int_equal(st.ppid, 3499);
	assert_int_equal(st.tracer_pid, 77);
	assert_int_equal(st.uid[0], 1000);
	assert_int_equal(st.uid[1], 1001);
	assert_int_equal(st.uid[2], 1002);
	assert_int_equal(st.uid[3], 4294967294u);
	assert_int_equal(st.gid[0], 100);
	assert_int_equal(st.gid[3], 103);
	assert_int_equal(st.ngroups, 3);
	assert_non_null(st.groups);
	assert_int_equal(st.groups[0], 10);
	assert_int_equal(st.groups[1], 20);
	assert_int_equal(st.groups[2], 4294967295u);
	assert_int_equal(st.umask, 027);
	assert_int_equal(st.sig_pnd, 0x100);
	assert_int_equal(st.shd_pnd, 0x8000000000000000ull);
	assert_int_equal(st.sig_blk, 0x10000);
	assert_int_equal(st.sig_ign, 0x1000);
	assert_int_equal(st.sig_cgt, 0xfffffffe7ffbfeffull);
	assert_int_equal(st.cap_inh, 0);
	assert_int_equal(st.cap_prm, 0x1fffeffffffull);
	assert_int_equal(st.cap_eff, 0x1fffeffffffull);
	assert_int_equal(st.cap_bnd, 0x1fffeffffffull);
	assert_int_equal(st.cap_amb, 3);
	assert_int_equal(st.no_new_privs, 1);
	assert_int_equal(st.seccomp, 2);
	assert_int_equal(st.nspid_depth, 3);
	assert_int_equal(st.threads, 2);
	crest_proc_status_free(&st);
	assert_null(st.groups);
	assert_int_equal(st.ngroups, 0);
	crest_proc_status_free(&st);
}

/* status_full with the lines starting with each of `drop` removed and
 * `extra` (if any) put in their place. */
static char *status_edit(const char *drop, const char *extra)
{
	char *out = malloc(sizeof(status_full) + (extra ? strlen(extra) : 0) + 1);
	assert_non_null(out);
	char *o = out;
	const char *p = status_full;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p) + 1;
		bool skip = false;
		for (const char *d = drop; d && *d; d += strlen(d) + 1)
			if (strncmp(p, d, strlen(d)) == 0)
				skip = true;
		if (skip) {
			if (extra) {
				o = stpcpy(o, extra);
				extra = NULL;
			}
		} else {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
	return out;
}

static void test_status_empty_groups_and_optional(void **state)
{
	(void)state;
	struct crest_proc_status st;
	crest_error *err = NULL;

	/* the kernel writes "Groups:\t \n" for no groups */
	char *text = status_edit("Groups:\0", "Groups:\t \n");
	assert_int_equal(crest_proc_parse_status(text, &st, &err), 0);
	assert_int_equal(st.ngroups, 0);
	assert_null(st.groups);
	crest_proc_status_free(&st);
	free(text);

	text = status_edit("Groups:\0", "Groups:\n");
	assert_int_equal(crest_proc_parse_status(text, &st, &err), 0);
	assert_int_equal(st.ngroups, 0);
	crest_proc_status_free(&st);
	free(text);

	/* a zombie, an old or a small kernel: optional lines missing */
	text = status_edit("Umask:\0NSpid:\0NoNewPrivs:\0Seccomp:\0CapAmb:\0", NULL);
	assert_null(strstr(text, "Umask"));
	assert_int_equal(crest_proc_parse_status(text, &st, &err), 0);
	assert_null(err);
	assert_int_equal(st.umask, 0);
	assert_int_equal(st.nspid_depth, 0);
	assert_int_equal(st.no_new_privs, 0);
	assert_int_equal(st.seccomp, 0);
	assert_int_equal(st.cap_amb, 0);
	assert_int_equal(st.pid, 3504); /* the rest is still read */
	assert_int_equal(st.ngroups, 3);
	crest_proc_status_free(&st);
	free(text);

	/* no trailing newline, blank lines, CRLF do not matter */
	text = status_edit("voluntary_ctxt_switches:\0", "\nThreads:\t5\r\n");
	text[strlen(text) - 1] = '\0';
	assert_int_equal(crest_proc_parse_status(text, &st, &err), 0);
	assert_int_equal(st.threads, 5); /* the later line wins */
	crest_proc_status_free(&st);
	free(text);
}

static void test_status_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *drop, *extra;
		const char *sub1, *sub2;
	} bad[] = {
		{ "Uid:\0", "Uid:\t0\t0\t0\n", "status line 9", "four decimal IDs" },
		{ "Uid:\0", "Uid:\t0\t0\t0\t0\t0\n", "status line 9", "Uid:" },
		{ "Gid:\0", "Gid:\t0\t-1\t0\t0\n", "status line 10", "Gid" },
		{ "Groups:\0", "Groups:\t1 x 3\n", "status line 12", "group IDs" },
		{ "Umask:\0", "Umask:\t0898\n", "status line 2", "octal" },
		{ "Umask:\0", "Umask:\t01777\n", "status line 2", "octal" },
		{ "SigBlk:\0", "SigBlk:\txyz\n", "status line", "hex mask" },
		{ "CapEff:\0", "CapEff:\t10000000000000000\n", "status line", "CapEff" },
		{ "Pid:\0", "Pid:\t-5\n", "status line 6", "Pid:" },
		{ "State:\0", "State:\t\n", "status line 3", "state letter" },
		{ "NSpid:\0", "NSpid:\t\n", "status line 14", "NSpid" },
		{ "Threads:\0", "Threads:\t1 2\n", "status line 17", "Threads" },
		{ "Kthread:\0", "this line has no colon\n", "status line 15", "not a \"Name: value\" line" },
		{ "Pid:\0", NULL, "no \"Pid:\" line", NULL },
		{ "SigBlk:\0", NULL, "no \"SigBlk:\" line", NULL },
		{ "Groups:\0", NULL, "no \"Groups:\" line", NULL },
		{ "State:\0", NULL, "no \"State:\" line", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *text = status_edit(bad[i].drop, bad[i].extra);
		struct crest_proc_status st;
		crest_error *err = NULL;
		int r = crest_proc_parse_status(text, &st, &err);
		if (r != -EINVAL)
			fail_msg("case %zu (%s) gave %d", i, bad[i].extra ? bad[i].extra : bad[i].drop, r);
		assert_null(st.groups);
		assert_int_equal(st.ngroups, 0);
		check_err(&err, EINVAL, bad[i].sub1, bad[i].sub2);
		free(text);
	}
	/* an empty text is not a status file */
	struct crest_proc_status st;
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_status("", &st, &err), -EINVAL);
	check_err(&err, EINVAL, "no \"State:\" line", "status");
}

/* ---- fdinfo -------------------------------------------------------------- */

static void test_fdinfo_basic(void **state)
{
	(void)state;
	struct crest_proc_fdinfo fi;
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_fdinfo("pos:\t12345678901\nflags:\t02100002\nmnt_id:\t26\nino:\t10952779\n",
						 &fi, &err),
			 0);
	assert_null(err);
	assert_int_equal(fi.pos, 12345678901ull);
	assert_int_equal(fi.flags, 02100002); /* kernel O_LARGEFILE is 0100000, glibc's is 0 */
	assert_int_equal(fi.flags & O_ACCMODE, O_RDWR);
	assert_true(fi.flags & O_CLOEXEC);
	assert_int_equal(fi.mnt_id, 26);
	assert_int_equal(fi.ino, 10952779);

	/* kind-specific lines after the common ones, some without a colon,
	 * some repeating a common key inside */
	static const char io_uring[] =
		"pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t8447\n"
		"SqMask:\t0x3\nSQEs:\t1\n    0: opcode:NOP, fd:0, flags:0, off:0, addr:0x0\n"
		"PollList:\n  op=1, task_works=0\nCqOverflowList:\n"
		"tfd:        5 events:       19 data:                5  pos:99 ino:1 sdev:3\n"
		"inotify wd:1 ino:7 sdev:3 mask:3 ignored_mask:0\n"
		"pos:\t77\n";
	assert_int_equal(crest_proc_parse_fdinfo(io_uring, &fi, &err), 0);
	assert_int_equal(fi.pos, 0);
	assert_int_equal(fi.flags, O_CLOEXEC | O_RDWR);
	assert_int_equal(fi.ino, 8447);

	/* ino is optional (before Linux 5.14); no trailing newline */
	assert_int_equal(crest_proc_parse_fdinfo("pos:\t5\nflags:\t00\nmnt_id:\t0", &fi, &err), 0);
	assert_int_equal(fi.pos, 5);
	assert_int_equal(fi.flags, 0);
	assert_int_equal(fi.ino, 0);
}

static void test_fdinfo_malformed(void **state)
{
	(void)state;
	struct crest_proc_fdinfo fi;
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_fdinfo("pos:\tx\nflags:\t0\nmnt_id:\t1\n", &fi, &err), -EINVAL);
	check_err(&err, EINVAL, "fdinfo line 1", "decimal offset");
	assert_int_equal(crest_proc_parse_fdinfo("pos:\t0\nflags:\t0109\nmnt_id:\t1\n", &fi, &err), -EINVAL);
	check_err(&err, EINVAL, "fdinfo line 2", "octal");
	assert_int_equal(crest_proc_parse_fdinfo("pos:\t0\nflags:\t077777777777\nmnt_id:\t1\n", &fi, &err), -EINVAL);
	check_err(&err, EINVAL, "fdinfo line 2", "flags");
	assert_int_equal(crest_proc_parse_fdinfo("pos:\t0\nflags:\t0\nmnt_id:\t1\nino:\t-3\n", &fi, &err), -EINVAL);
	check_err(&err, EINVAL, "fdinfo line 4", "inode");
	assert_int_equal(crest_proc_parse_fdinfo("pos:\t0\nmnt_id:\t1\n", &fi, &err), -EINVAL);
	check_err(&err, EINVAL, "no \"flags:\" line", NULL);
	assert_int_equal(crest_proc_parse_fdinfo("", &fi, &err), -EINVAL);
	check_err(&err, EINVAL, "no \"pos:\" line", NULL);
}

static void test_fdinfo_live(void **state)
{
	(void)state;
	char path[] = "/tmp/crest-test-proc-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "hello world", 11), 11);
	assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);

	char fpath[64], *text = NULL;
	snprintf(fpath, sizeof(fpath), "/proc/self/fdinfo/%d", fd);
	assert_true(crest_read_file(fpath, &text) > 0);
	struct crest_proc_fdinfo fi;
	crest_error *err = NULL;
	assert_int_equal(crest_proc_parse_fdinfo(text, &fi, &err), 0);
	assert_int_equal(fi.pos, 5);
	assert_int_equal(fi.flags & O_ACCMODE, O_RDWR);
	assert_true(fi.flags & O_CLOEXEC);
	assert_int_equal(fi.ino, sb.st_ino);
	assert_true(fi.mnt_id > 0);
	free(text);
	close(fd);
}

/* ---- fd kinds ------------------------------------------------------------ */

static void test_fd_kind_text(void **state)
{
	(void)state;
	static const struct {
		const char *link;
		uint32_t mode;
		int kind;
	} cases[] = {
		{ "pipe:[8390]", S_IFIFO | 0600, CREST_FD_FIFO },
		{ "socket:[8404]", S_IFSOCK | 0777, CREST_FD_SOCKET },
		{ "anon_inode:[eventfd]", 0600, CREST_FD_EVENTFD },
		{ "anon_inode:[eventpoll]", 0600, CREST_FD_EPOLL },
		{ "anon_inode:[timerfd]", 0600, CREST_FD_TIMERFD },
		{ "anon_inode:[signalfd]", 0600, CREST_FD_SIGNALFD },
		{ "anon_inode:inotify", 0600, CREST_FD_INOTIFY },
		{ "anon_inode:[fanotify]", 0600, CREST_FD_FANOTIFY },
		{ "anon_inode:[pidfd]", 0700, CREST_FD_PIDFD },
		{ "anon_inode:[userfaultfd]", 0600, CREST_FD_USERFAULTFD },
		{ "anon_inode:[io_uring]", 0600, CREST_FD_IO_URING },
		{ "anon_inode:[perf_event]", 0600, CREST_FD_OTHER_ANON },
		{ "anon_inode:bpf-map", 0, CREST_FD_OTHER_ANON },
		{ "anon_inode:[eventfd]x", 0600, CREST_FD_OTHER_ANON },
		{ "/memfd:my name (deleted)", S_IFREG | 0777, CREST_FD_MEMFD },
		{ "/memfd:x", 0, CREST_FD_MEMFD },
		{ "/memfd:dir", S_IFDIR | 0755, CREST_FD_DIR },
		{ "/tmp/a file (deleted)", S_IFREG | 0600, CREST_FD_REG },
		{ "/tmp", S_IFDIR | 01777, CREST_FD_DIR },
		{ "/dev/null", S_IFCHR | 0666, CREST_FD_CHR },
		{ "/dev/vda", S_IFBLK | 0660, CREST_FD_BLK },
		{ "/tmp/fifo", S_IFIFO | 0644, CREST_FD_FIFO },
		{ "/run/sock", S_IFSOCK | 0777, CREST_FD_SOCKET },
		{ "net:[4026531833]", S_IFREG | 0444, CREST_FD_REG },
		{ "/gone", 0, CREST_FD_UNKNOWN },
		{ NULL, S_IFCHR, CREST_FD_CHR },
		{ "", 0, CREST_FD_UNKNOWN },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int k = crest_proc_fd_kind(cases[i].link, cases[i].mode);
		if (k != cases[i].kind)
			fail_msg("\"%s\" mode %o: got %s, want %s", cases[i].link ? cases[i].link : "(null)",
				 cases[i].mode, crest_proc_fd_kind_name(k), crest_proc_fd_kind_name(cases[i].kind));
	}
}

static void test_fd_kind_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		"file", "directory", "chardev", "blockdev", "pipe", "socket", "eventfd", "epoll", "timerfd",
		"signalfd", "inotify", "fanotify", "pidfd", "userfaultfd", "io_uring", "memfd", "anon_inode", "unknown",
	};
	assert_int_equal(ARRAY_SIZE(want), CREST_FD_UNKNOWN + 1);
	for (int k = 0; k <= CREST_FD_UNKNOWN; k++)
		assert_string_equal(crest_proc_fd_kind_name(k), want[k]);
	assert_string_equal(crest_proc_fd_kind_name(-1), "unknown");
	assert_string_equal(crest_proc_fd_kind_name(CREST_FD_UNKNOWN + 1), "unknown");
	assert_string_equal(crest_proc_fd_kind_name(INT_MAX), "unknown");
}

/* Classify fd of this process the way the dumper does. */
static int live_kind(int fd)
{
	char path[64], link[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return crest_proc_fd_kind(link, sb.st_mode);
}

static void test_fd_kind_live(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(live_kind(p[0]), CREST_FD_FIFO);
	assert_int_equal(live_kind(p[1]), CREST_FD_FIFO);

	int efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	assert_int_equal(live_kind(efd), CREST_FD_EVENTFD);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	assert_int_equal(live_kind(ep), CREST_FD_EPOLL);

	int sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(sk >= 0);
	assert_int_equal(live_kind(sk), CREST_FD_SOCKET);

	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(null >= 0);
	assert_int_equal(live_kind(null), CREST_FD_CHR);

	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dir >= 0);
	assert_int_equal(live_kind(dir), CREST_FD_DIR);

	char path[] = "/tmp/crest-test-proc-XXXXXX";
	int reg = mkostemp(path, O_CLOEXEC);
	assert_true(reg >= 0);
	assert_int_equal(live_kind(reg), CREST_FD_REG);
	unlink(path); /* "(deleted)" does not change the kind */
	assert_int_equal(live_kind(reg), CREST_FD_REG);

	int mfd = memfd_create("crest test", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(live_kind(mfd), CREST_FD_MEMFD);

	int fds[] = { p[0], p[1], efd, ep, sk, null, dir, reg, mfd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close(fds[i]);
}

/* ---- tasks and the live files -------------------------------------------- */

/* A pid that does not exist: that of a child just reaped. */
static pid_t dead_pid(void)
{
	pid_t c = fork();
	assert_true(c >= 0);
	if (c == 0)
		_exit(0);
	assert_int_equal(waitpid(c, NULL, 0), c);
	return c;
}

static int ready_pipe[2], release_pipe[2];
static pid_t thread_tid;

static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = gettid();
	char c;
	/* tell the main thread our tid, then wait to be released */
	if (write(ready_pipe[1], "x", 1) != 1)
		return NULL;
	if (read(release_pipe[0], &c, 1) != 1)
		return NULL;
	return NULL;
}

static void test_list_tasks_live(void **state)
{
	(void)state;
	pid_t *tids = NULL;
	size_t n = 0;
	crest_error *err = NULL;
	assert_int_equal(crest_proc_list_tasks(getpid(), &tids, &n, &err), 0);
	assert_null(err);
	assert_true(n >= 1);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= tids[i] == getpid();
	assert_true(found);
	free(tids);

	/* with a second thread: both, sorted */
	assert_int_equal(pipe(ready_pipe), 0);
	assert_int_equal(pipe(release_pipe), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, thread_main, NULL), 0);
	char c;
	assert_int_equal(read(ready_pipe[0], &c, 1), 1);
	assert_int_equal(crest_proc_list_tasks(getpid(), &tids, &n, &err), 0);
	assert_true(n >= 2);
	bool have_main = false, have_thread = false;
	for (size_t i = 0; i < n; i++) {
		have_main |= tids[i] == getpid();
		have_thread |= tids[i] == thread_tid;
		if (i)
			assert_true(tids[i - 1] < tids[i]);
	}
	assert_true(have_main);
	assert_true(have_thread);
	free(tids);

	/* the thread's own stat, through task/TID */
	struct crest_proc_stat st;
	assert_int_equal(crest_proc_read_stat(getpid(), thread_tid, &st, &err), 0);
	assert_int_equal(st.pid, thread_tid);
	assert_true(st.num_threads >= 2);

	assert_int_equal(write(release_pipe[1], "y", 1), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(ready_pipe[0]);
	close(ready_pipe[1]);
	close(release_pipe[0]);
	close(release_pipe[1]);
}

static void test_gone_process(void **state)
{
	(void)state;
	pid_t dead = dead_pid();
	pid_t *tids = (pid_t *)1;
	size_t n = 7;
	crest_error *err = NULL;
	char pidstr[32];
	snprintf(pidstr, sizeof(pidstr), "PID %d", (int)dead);

	assert_int_equal(crest_proc_list_tasks(dead, &tids, &n, &err), -ESRCH);
	assert_null(tids);
	assert_int_equal(n, 0);
	check_err(&err, ESRCH, "no process with", pidstr);

	struct crest_proc_vmas vm;
	assert_int_equal(crest_proc_read_vmas(dead, &vm, &err), -ESRCH);
	assert_int_equal(vm.n, 0);
	check_err(&err, ESRCH, "no process with", pidstr);

	struct crest_proc_stat st;
	assert_int_equal(crest_proc_read_stat(dead, 0, &st, &err), -ESRCH);
	check_err(&err, ESRCH, "no process with", "/stat");

	struct crest_proc_status ss;
	assert_int_equal(crest_proc_read_status(dead, &ss, &err), -ESRCH);
	assert_null(ss.groups);
	check_err(&err, ESRCH, "no process with", "/status");

	/* our process exists, the thread does not */
	assert_int_equal(crest_proc_read_stat(getpid(), dead, &st, &err), -ESRCH);
	check_err(&err, ESRCH, "no thread", "/task/");
}

static void test_read_vmas_live(void **state)
{
	(void)state;
	/* a named anonymous mapping, touched so it is resident */
	size_t len = 3 * 4096;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	memset(m, 1, len);

	struct crest_proc_vmas vm = {0};
	crest_error *err = NULL;
	assert_int_equal(crest_proc_read_vmas(getpid(), &vm, &err), 0);
	assert_null(err);
	assert_true(vm.n > 5);

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';

	bool have_stack = false, have_exe = false, have_m = false, have_exec_code = false;
	for (size_t i = 0; i < vm.n; i++) {
		const struct crest_proc_vma *v = &vm.v[i];
		assert_true(v->start < v->end);
		if (i)
			assert_true(vm.v[i - 1].end <= v->start);
		/* every mapping has VmFlags whose rd/wr/ex agree with maps */
		assert_int_equal(!!(v->vmflags & CREST_VMF_RD), !!(v->prot & PROT_READ));
		assert_int_equal(!!(v->vmflags & CREST_VMF_WR), !!(v->prot & PROT_WRITE));
		assert_int_equal(!!(v->vmflags & CREST_VMF_EX), !!(v->prot & PROT_EXEC));
		assert_true(v->rss <= v->end - v->start);
		assert_true(v->anonymous <= v->rss);
		if (v->path && strcmp(v->path, "[stack]") == 0) {
			have_stack = true;
			assert_true(v->vmflags & CREST_VMF_GD);
			assert_true(v->rss > 0);
			assert_true(v->anonymous > 0);
		}
		if (v->path && strcmp(v->path, exe) == 0) {
			have_exe = true;
			assert_true(v->ino > 0);
			if (v->prot & PROT_EXEC)
				have_exec_code = true;
		}
		if (v->start <= (uint64_t)(uintptr_t)m && (uint64_t)(uintptr_t)m + len <= v->end) {
			have_m = true;
			assert_true(v->rss >= len);
			assert_true(v->anonymous >= len);
			assert_int_equal(v->prot, PROT_READ | PROT_WRITE);
			assert_false(v->shared);
		}
	}
	assert_true(have_stack);
	assert_true(have_exe);
	assert_true(have_exec_code);
	assert_true(have_m);
	crest_proc_vmas_free(&vm);
	munmap(m, len);

	/* /proc/self/maps parses the same way as the smaps headers */
	char *text = NULL;
	assert_true(crest_read_file("/proc/self/maps", &text) > 0);
	assert_int_equal(crest_proc_parse_maps(text, &vm, &err), 0);
	have_stack = false;
	for (size_t i = 0; i < vm.n; i++)
		have_stack |= vm.v[i].path && strcmp(vm.v[i].path, "[stack]") == 0;
	assert_true(have_stack);
	crest_proc_vmas_free(&vm);
	free(text);
}

static void test_read_stat_status_live(void **state)
{
	(void)state;
	struct crest_proc_stat st;
	crest_error *err = NULL;
	assert_int_equal(crest_proc_read_stat(getpid(), 0, &st, &err), 0);
	assert_null(err);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.pgrp, getpgrp());
	assert_int_equal(st.session, getsid(0));
	assert_true(st.num_threads >= 1);
	assert_false(st.flags & 0x00200000ul); /* not a kernel thread */
	/* our own code and stack are where stat says */
	assert_true(st.start_code <= (unsigned long)(uintptr_t)&test_read_stat_status_live);
	assert_true((unsigned long)(uintptr_t)&test_read_stat_status_live < st.end_code);
	assert_true(st.arg_start < st.arg_end);
	assert_true(st.env_start <= st.env_end);

	struct crest_proc_stat st2;
	assert_int_equal(crest_proc_read_stat(getpid(), getpid(), &st2, &err), 0);
	assert_int_equal(st2.pid, getpid());
	assert_string_equal(st2.comm, st.comm);

	mode_t old = umask(0027);
	struct crest_proc_status ss;
	assert_int_equal(crest_proc_read_status(getpid(), &ss, &err), 0);
	umask(old);
	assert_null(err);
	assert_int_equal(ss.uid[0], getuid());
	assert_int_equal(ss.uid[1], geteuid());
	assert_int_equal(ss.gid[0], getgid());
	assert_int_equal(ss.gid[1], getegid());
	assert_int_equal(ss.pid, getpid());
	assert_int_equal(ss.tgid, getpid());
	assert_int_equal(ss.ppid, getppid());
	assert_int_equal(ss.state, 'R');
	assert_int_equal(ss.umask, 0027);
	assert_true(ss.threads >= 1);
	assert_true(ss.nspid_depth >= 1);
	int ng = getgroups(0, NULL);
	assert_true(ng >= 0);
	assert_int_equal(ss.ngroups, (size_t)ng);
	crest_proc_status_free(&ss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_basic),
		cmocka_unit_test(test_maps_paths),
		cmocka_unit_test(test_maps_empty),
		cmocka_unit_test(test_maps_malformed),
		cmocka_unit_test(test_vmflag_bit),
		cmocka_unit_test(test_smaps_basic),
		cmocka_unit_test(test_smaps_unsorted_vmas),
		cmocka_unit_test(test_smaps_malformed),
		cmocka_unit_test(test_stat_nasty_comm),
		cmocka_unit_test(test_stat_long_comm_and_kthread),
		cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_status_full),
		cmocka_unit_test(test_status_empty_groups_and_optional),
		cmocka_unit_test(test_status_malformed),
		cmocka_unit_test(test_fdinfo_basic),
		cmocka_unit_test(test_fdinfo_malformed),
		cmocka_unit_test(test_fdinfo_live),
		cmocka_unit_test(test_fd_kind_text),
		cmocka_unit_test(test_fd_kind_names),
		cmocka_unit_test(test_fd_kind_live),
		cmocka_unit_test(test_list_tasks_live),
		cmocka_unit_test(test_gone_process),
		cmocka_unit_test(test_read_vmas_live),
		cmocka_unit_test(test_read_stat_status_live),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
