#!/usr/bin/env bash
# Integration tests: crest against real processes.
#
#   CREST=build/crest TARGETS=build/targets tests/integration/run.sh [CASE...]
#
# Each test case is a function t_NAME, run in a subshell of its own; it
# fails by calling `fail REASON`, which ends the subshell.  Targets a case
# starts and tmpfs it mounts are recorded and cleaned up when it ends.  The
# last line of output is "N passed, M failed"; the exit status is non-zero
# if anything failed.  A case that cannot run here (missing tool or
# capability) fails and says why.
set -u

: "${CREST:?set CREST to the crest binary}"
: "${TARGETS:?set TARGETS to the directory of built test targets}"
CREST=$(realpath -- "$CREST") || exit 2
TARGETS=$(realpath -- "$TARGETS") || exit 2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || PY=python3
GDB_PYTHON=/usr/bin/python3.11
READY_TIMEOUT=5      # seconds to wait for a target's "ready"
CMD_TIMEOUT=30       # seconds any single crest or gdb run may take

TMP=$(mktemp -d /tmp/crest-it.XXXXXX) || exit 2

# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"
# Let an unprivileged crest (bad_perm) reach its output directory.
chmod 711 "$TMP"

# ---- cleanup -------------------------------------------------------------

# Kill the targets and unmount the file systems a case recorded.
cleanup_case_dir() {
	local cdir=$1 p m
	if [ -f "$cdir/pids" ]; then
		while read -r p; do
			kill -KILL "$p" 2>/dev/null
		done <"$cdir/pids"
		while read -r p; do
			wait "$p" 2>/dev/null
		done <"$cdir/pids"
		# Reaped: never kill these numbers again.
		mv -f "$cdir/pids" "$cdir/pids.done"
	fi
	if [ -f "$cdir/mounts" ]; then
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done <"$cdir/mounts"
	fi
}

trap cleanup_all EXIT
trap 'exit 130' INT TERM

# ---- helpers used by the cases ------------------------------------------

# spawn OUT PROG ARGS...: start a target in the background with fds above
# 2 closed, stdout to OUT and stderr to OUT.err; sets TPID and records it
# for cleanup; then waits for "ready" in OUT.
spawn() {
	local out=$1
	shift
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
		done
		exec "$@"
	) </dev/null >"$out" 2>"$out.err" &
	TPID=$!
	echo "$TPID" >>"$CASE_DIR/pids"
	wait_ready "$out" "$TPID"
}

wait_ready() {
	local out=$1 pid=$2 i
	for ((i = 0; i < READY_TIMEOUT * 20; i++)); do
		grep -q ready "$out" 2>/dev/null && return 0
		case $(pstate "$pid") in '' | Z)
			fail "target $pid exited before ready: stdout $(excerpt "$out") stderr $(excerpt "$out.err")"
			;;
		esac
		sleep 0.05
	done
	fail "target $pid not ready after ${READY_TIMEOUT}s: stdout $(excerpt "$out")"
}

expect_alive() {
	local s
	s=$(pstate "$1")
	case $s in
	R | S | D) ;;
	'') fail "$2: target $1 is gone" ;;
	*) fail "$2: target $1 is in state $s, not running" ;;
	esac
}

# Wait up to 5 s for our child PID to end; its exit status goes to WSTATUS.
wait_exit() {
	local pid=$1 i
	for ((i = 0; i < 100; i++)); do
		case $(pstate "$pid") in '' | Z) break ;; esac
		sleep 0.05
	done
	case $(pstate "$pid") in
	'' | Z) ;;
	*) return 1 ;;
	esac
	wait "$pid"
	WSTATUS=$?
	return 0
}

# Lines in a file (for "still printing" checks).
nlines() {
	local n
	n=$(wc -l <"$1" 2>/dev/null) || n=0
	printf '%s' "$n"
}

# expect_progress FILE WHAT: FILE grows within 1 s.
expect_progress() {
	local before i
	before=$(nlines "$1")
	for ((i = 0; i < 20; i++)); do
		sleep 0.05
		[ "$(nlines "$1")" -gt "$before" ] && return 0
	done
	fail "$2: target output stopped growing (at $before lines)"
}

# crest ARGS...: run crest with a time limit; stdout in $CASE_DIR/out,
# stderr in $CASE_DIR/err, status in RC.
crest() {
	local start=$SECONDS
	timeout -k 5 "$CMD_TIMEOUT" "$CREST" "$@" >"$CASE_DIR/out" 2>"$CASE_DIR/err"
	RC=$?
	timed_out "$start" "crest $*"
}

# crest_ok ARGS...: crest must succeed.
crest_ok() {
	crest "$@"
	[ "$RC" -eq 0 ] || fail "crest $* exited $RC: $(excerpt "$CASE_DIR/err")"
}

# dump_ok PID DIR [FLAGS...]: a successful dump with a sane image.
dump_ok() {
	local pid=$1 dir=$2
	shift 2
	crest_ok dump -p "$pid" -o "$dir" "$@"
	[ -s "$dir/crest.core" ] || fail "dump of $pid succeeded but $dir/crest.core is missing or empty"
	grep -q "dumped pid $pid" "$CASE_DIR/out" ||
		fail "no 'dumped pid $pid' summary on stdout: $(excerpt "$CASE_DIR/out")"
}

# show_json DIR FILE: crest show --json into FILE.
show_json() {
	crest_ok show "$1" --json
	cp "$CASE_DIR/out" "$2"
}

# jcheck CODE FILE [ARGS...]: run python CODE with `j` = the JSON in FILE,
# `A` = ARGS and h() = int from a hex string or number; an assert that
# fails ends the case with its message.
JPY='
import json, sys
code = sys.argv[1]
try:
    with open(sys.argv[2]) as f:
        j = json.load(f)
except Exception as e:
    print("show --json output is not JSON: %s" % e)
    sys.exit(1)
def h(x):
    return int(x, 0) if isinstance(x, str) else int(x)
try:
    exec(code, {"j": j, "A": sys.argv[3:], "h": h})
except AssertionError as e:
    print("JSON check failed: %s" % e)
    sys.exit(1)
except Exception as e:
    print("JSON check failed: %s: %s" % (type(e).__name__, e))
    sys.exit(1)
'
jcheck() {
	local code=$1 file=$2 msg
	shift 2
	msg=$("$PY" -c "$JPY" "$code" "$file" "$@" 2>&1) || fail "$msg"
}

# gdb_core PROGRAM CORE COMMANDS...: batch gdb; output in $CASE_DIR/gdb.
gdb_core() {
	local prog=$1 core=$2 c
	local args=(-batch -nx -iex 'set debuginfod enabled off' -iex 'set pagination off')
	shift 2
	command -v gdb >/dev/null || fail "cannot run: gdb is not installed"
	for c in "$@"; do
		args+=(-ex "$c")
	done
	local start=$SECONDS
	timeout -k 5 "$CMD_TIMEOUT" gdb "${args[@]}" "$prog" "$core" >"$CASE_DIR/gdb" 2>&1
	RC=$?
	timed_out "$start" "gdb on $core"
}

# expect_refused PID DIR: the last crest run failed cleanly for PID.
expect_refused() {
	local pid=$1 dir=$2 first
	[ "$RC" -ne 0 ] || fail "crest exited 0 for pid $pid"
	first=$(head -n 1 "$CASE_DIR/err")
	case $first in
	"crest: "*) ;;
	*) fail "stderr does not start with 'crest: ': $(excerpt "$CASE_DIR/err")" ;;
	esac
	grep -qE "(^|[^0-9])$pid([^0-9]|$)" "$CASE_DIR/err" ||
		fail "message does not name pid $pid: $(excerpt "$CASE_DIR/err")"
	[ ! -e "$dir/crest.core" ] || fail "$dir/crest.core left behind after a failed dump"
}

# A PID number no process uses.
free_pid() {
	local max p
	max=$(cat /proc/sys/kernel/pid_max 2>/dev/null) || max=32768
	for ((p = max - 1; p > 300; p--)); do
		[ -e "/proc/$p" ] || {
			printf '%s' "$p"
			return 0
		}
	done
	return 1
}

# mount_tmpfs DIR OPTIONS: mount a tmpfs, recorded for cleanup.
mount_tmpfs() {
	local dir=$1 opts=$2 msg
	mkdir -p "$dir"
	msg=$(mount -t tmpfs -o "$opts" none "$dir" 2>&1) ||
		fail "cannot run: mount -t tmpfs -o $opts failed: $msg"
	echo "$dir" >>"$CASE_DIR/mounts"
}

# ---- test cases ------------------------------------------------------------

NOTES=(NT_PRSTATUS NT_PRPSINFO NT_AUXV NT_FILE NT_FPREGSET NT_X86_XSTATE NT_SIGINFO)

# A static binary, left running: standard notes, gdb reads it, target goes on.
t_static() {
	local d=$CASE_DIR/img n prog=$TARGETS/counter_static
	need readelf
	spawn "$CASE_DIR/t.out" "$prog"
	local pid=$TPID
	dump_ok "$pid" "$d" --leave-running
	readelf -n "$d/crest.core" >"$CASE_DIR/notes" 2>&1 ||
		fail "readelf -n failed: $(excerpt "$CASE_DIR/notes")"
	for n in "${NOTES[@]}"; do
		grep -q "$n" "$CASE_DIR/notes" || fail "readelf -n shows no $n"
	done
	gdb_core "$prog" "$d/crest.core" bt 'print/x static_marker'
	grep -q static_spin "$CASE_DIR/gdb" || fail "gdb backtrace lacks static_spin: $(excerpt "$CASE_DIR/gdb" 8)"
	grep -q '= 0x5eed1234' "$CASE_DIR/gdb" || fail "gdb does not print static_marker = 0x5eed1234: $(excerpt "$CASE_DIR/gdb" 8)"
	show_json "$d" "$CASE_DIR/j"
	jcheck '
pid = int(A[0])
assert j["pid"] == pid, "pid %r != %d" % (j["pid"], pid)
assert j["left_running"] is True, "left_running is %r" % j["left_running"]
assert [t["tid"] for t in j["threads"]] == [pid], "threads %r" % [t["tid"] for t in j["threads"]]
assert j["process"]["comm"] == "counter_static", "comm %r" % j["process"]["comm"]
assert len(j["mappings"]) > 0, "no mappings"
assert j["totals"]["stored"] > 0, "nothing stored"
' "$CASE_DIR/j" "$pid"
	expect_alive "$pid" "after dump --leave-running"
	expect_progress "$CASE_DIR/t.out" "after dump --leave-running"
}

# 9 threads, default mode (target killed afterwards).
t_threads8() {
	local d=$CASE_DIR/img prog=$TARGETS/threads8 n tids
	need readelf
	spawn "$CASE_DIR/t.out" "$prog"
	local pid=$TPID
	tids=$(cd "/proc/$pid/task" && echo *)
	dump_ok "$pid" "$d"
	wait_exit "$pid" || fail "target still running ($(pstate "$pid")) after a default dump"
	[ "$WSTATUS" -gt 128 ] || fail "target exited with status $WSTATUS, not killed by a signal"
	n=$(readelf -n "$d/crest.core" | grep -c NT_PRSTATUS)
	[ "$n" -eq 9 ] || fail "readelf -n shows $n NT_PRSTATUS notes, want 9"
	gdb_core "$prog" "$d/crest.core" 'info threads' 'thread apply all bt' 'print/x magic_value'
	n=$(grep -cE '^[* ] +[0-9]+ +(Thread|LWP|process) ' "$CASE_DIR/gdb")
	[ "$n" -eq 9 ] || fail "gdb info threads lists $n threads, want 9: $(excerpt "$CASE_DIR/gdb" 12)"
	n=$(grep -c 'in worker_loop' "$CASE_DIR/gdb")
	[ "$n" -ge 8 ] || fail "worker_loop in $n backtraces, want 8: $(excerpt "$CASE_DIR/gdb" 12)"
	grep -q '= 0x12345678abcdef' "$CASE_DIR/gdb" || fail "gdb does not print magic_value: $(excerpt "$CASE_DIR/gdb" 4)"
	show_json "$d" "$CASE_DIR/j"
	jcheck '
pid = int(A[0]); want = sorted(int(t) for t in A[1].split())
assert j["pid"] == pid, "pid %r != %d" % (j["pid"], pid)
assert j["left_running"] is False, "left_running is %r" % j["left_running"]
got = sorted(t["tid"] for t in j["threads"])
assert got == want, "tids %r, want %r" % (got, want)
' "$CASE_DIR/j" "$pid" "$tids"
}

# A python3 interpreter, left running.
t_python() {
	local d=$CASE_DIR/img
	[ -x /usr/bin/python3 ] || fail "cannot run: /usr/bin/python3 is missing"
	[ -x "$GDB_PYTHON" ] || fail "cannot run: $GDB_PYTHON is missing"
	spawn "$CASE_DIR/t.out" /usr/bin/python3 -c '
import os, sys, time
print("pid=%d ready" % os.getpid(), flush=True)
d = {}
i = 0
while True:
    d[i % 1000] = str(i)
    i += 1
    if i % 100 == 0:
        print("i=%d" % i, flush=True)
    time.sleep(0.001)
'
	local pid=$TPID
	dump_ok "$pid" "$d" --leave-running
	show_json "$d" "$CASE_DIR/j"
	jcheck '
assert len(j["threads"]) >= 1, "no threads"
assert j["process"]["comm"] == "python3", "comm %r" % j["process"]["comm"]
' "$CASE_DIR/j"
	gdb_core "$GDB_PYTHON" "$d/crest.core" bt
	grep -qE '^#0 ' "$CASE_DIR/gdb" || fail "gdb shows no backtrace frame: $(excerpt "$CASE_DIR/gdb" 8)"
	expect_alive "$pid" "after dump --leave-running"
	expect_progress "$CASE_DIR/t.out" "after dump --leave-running"
}

last_count() {
	grep '^count=' "$1" | tail -n 1 | cut -d= -f2
}

# Three dumps of a register-checking spinner: no register may change.
t_leave_running_regs() {
	local i c1 c2
	spawn "$CASE_DIR/t.out" "$TARGETS/regcheck"
	local pid=$TPID
	for i in 1 2 3; do
		dump_ok "$pid" "$CASE_DIR/img$i" --leave-running
		expect_alive "$pid" "after dump $i"
		sleep 0.2
	done
	sleep 1
	if grep -q 'REGCHECK FAIL' "$CASE_DIR/t.out.err"; then
		fail "$(excerpt "$CASE_DIR/t.out.err")"
	fi
	expect_alive "$pid" "1 s after the dumps"
	c1=$(last_count "$CASE_DIR/t.out")
	sleep 0.3
	c2=$(last_count "$CASE_DIR/t.out")
	if [ -z "$c1" ] || [ -z "$c2" ] || [ "$c2" -le "$c1" ]; then
		fail "spin counter not advancing after the dumps ($c1 -> $c2)"
	fi
	grep -q 'REGCHECK FAIL' "$CASE_DIR/t.out.err" && fail "$(excerpt "$CASE_DIR/t.out.err")"
	return 0
}

# Dumps while realtime signals fly: none lost, pending SIGUSR2 kept.
t_leave_running_signals() {
	local i
	spawn "$CASE_DIR/t.out" "$TARGETS/sigcount"
	local pid=$TPID
	sleep 0.3
	for i in 1 2; do
		dump_ok "$pid" "$CASE_DIR/img$i" --leave-running
		expect_alive "$pid" "after dump $i"
		sleep 0.3
	done
	show_json "$CASE_DIR/img1" "$CASE_DIR/j"
	jcheck '
pid = int(A[0])
main = [t for t in j["threads"] if t["tid"] == pid]
assert len(main) == 1, "main thread %d not in threads" % pid
assert len(j["threads"]) == 2, "%d threads, want 2" % len(j["threads"])
shared = j["signals"]["shared_pending"]
assert 12 in main[0]["pending"] or 12 in shared, \
    "SIGUSR2 (12) not pending: thread %r, process %r" % (main[0]["pending"], shared)
' "$CASE_DIR/j" "$pid"
	expect_progress "$CASE_DIR/t.out" "after the dumps"
	kill -TERM "$pid"
	wait_exit "$pid" || fail "sigcount did not exit within 5 s of SIGTERM"
	grep -q '^final ' "$CASE_DIR/t.out" || fail "no final line (status $WSTATUS): $(excerpt "$CASE_DIR/t.out" 2) $(excerpt "$CASE_DIR/t.out.err" 2)"
	[ "$WSTATUS" -eq 0 ] || fail "sigcount exited $WSTATUS: $(grep '^final ' "$CASE_DIR/t.out")"
	return 0
}

# syscall_of PID TID: the system call number a thread is blocked in.
syscall_of() {
	local s
	s=$(cat "/proc/$1/task/$2/syscall" 2>/dev/null) || return 0
	printf '%s' "${s%% *}"
}

# Threads blocked in nanosleep and futex: the image says so.
t_syscall_state() {
	local d=$CASE_DIR/img i wtid s
	spawn "$CASE_DIR/t.out" "$TARGETS/sleeper"
	local pid=$TPID
	wtid=$(sed -n 's/.*waiter=\([0-9]*\).*/\1/p' "$CASE_DIR/t.out")
	[ -n "$wtid" ] || fail "sleeper printed no waiter tid"
	for ((i = 0; i < 100; i++)); do
		s=$(syscall_of "$pid" "$pid")
		[ "$s" = 230 ] || [ "$s" = 35 ] && break
		sleep 0.05
	done
	[ "$s" = 230 ] || [ "$s" = 35 ] || fail "sleeper main thread not in nanosleep (syscall '$s')"
	dump_ok "$pid" "$d" --leave-running
	show_json "$d" "$CASE_DIR/j"
	jcheck '
pid = int(A[0]); wtid = int(A[1])
th = {t["tid"]: t for t in j["threads"]}
assert pid in th and wtid in th, "threads %r, want %d and %d" % (sorted(th), pid, wtid)
m = th[pid]
assert m["in_syscall"] is True, "main thread in_syscall %r" % m["in_syscall"]
assert m["syscall_nr"] in (35, 230), "main thread syscall_nr %r, want 35 or 230" % m["syscall_nr"]
w = th[wtid]
assert w["in_syscall"] is True, "waiter in_syscall %r" % w["in_syscall"]
assert w["syscall_nr"] == 202, "waiter syscall_nr %r, want 202 (futex)" % w["syscall_nr"]
' "$CASE_DIR/j" "$pid" "$wtid"
	sleep 0.3
	expect_alive "$pid" "after dump --leave-running"
	s=$(pstate "$pid")
	[ "$s" = S ] || fail "sleeper main thread in state $s after the dump, want S"
	s=$(pstate "$pid/task/$wtid")
	[ "$s" = S ] || fail "waiter thread in state $s after the dump, want S"
	[ ! -s "$CASE_DIR/t.out.err" ] || fail "sleeper noticed the dump: $(excerpt "$CASE_DIR/t.out.err")"
}

# An unsupported fd (pipe) refuses the dump unless --skip-unsupported.
t_fds() {
	local d=$CASE_DIR/img f=$CASE_DIR/data.bin line reg pr pw
	head -c 20000 /dev/zero >"$f"
	spawn "$CASE_DIR/t.out" "$TARGETS/fds" "$f"
	local pid=$TPID
	line=$(grep '^reg=' "$CASE_DIR/t.out")
	reg=$(sed -n 's/^reg=\([0-9]*\) .*/\1/p' <<<"$line")
	pr=$(sed -n 's/.* pipe=\([0-9]*\),.*/\1/p' <<<"$line")
	pw=$(sed -n 's/.* pipe=[0-9]*,\([0-9]*\).*/\1/p' <<<"$line")
	if [ -z "$reg" ] || [ -z "$pr" ] || [ -z "$pw" ]; then
		fail "fds target printed '$line'"
	fi

	crest dump -p "$pid" -o "$d"
	[ "$RC" -ne 0 ] || fail "dump with a pipe fd succeeded without --skip-unsupported"
	case $(head -n 1 "$CASE_DIR/err") in
	"crest: "*) ;;
	*) fail "stderr does not start with 'crest: ': $(excerpt "$CASE_DIR/err")" ;;
	esac
	grep -qi pipe "$CASE_DIR/err" || fail "message does not mention the pipe: $(excerpt "$CASE_DIR/err")"
	grep -qE "(^|[^0-9])($pr|$pw)([^0-9]|$)" "$CASE_DIR/err" ||
		fail "message does not name fd $pr or $pw: $(excerpt "$CASE_DIR/err")"
	[ ! -e "$d/crest.core" ] || fail "crest.core left behind after the refused dump"
	expect_alive "$pid" "after the refused dump"

	dump_ok "$pid" "$d" --skip-unsupported --leave-running
	expect_alive "$pid" "after dump --skip-unsupported --leave-running"
	show_json "$d" "$CASE_DIR/j"
	jcheck '
path = A[0]; reg = int(A[1]); pr = int(A[2]); pw = int(A[3])
fds = {e["fd"]: e for e in j["fds"]}
for fd in (reg, pr, pw):
    assert fd in fds, "fd %d missing from fds %r" % (fd, sorted(fds))
r = fds[reg]
assert r["path"] == path, "fd %d path %r, want %r" % (reg, r["path"], path)
assert h(r["pos"]) == 12345, "fd %d pos %r, want 12345" % (reg, r["pos"])
assert r["supported"] is True, "regular file marked unsupported"
assert str(r["kind"]).lower() in ("reg", "regular", "file"), "regular file has kind %r" % r["kind"]
nulls = [e for e in j["fds"] if e["path"] == "/dev/null"]
assert nulls, "no fd on /dev/null"
assert all(str(e["kind"]).lower().startswith("ch") for e in nulls), \
    "/dev/null kinds %r, want a character device" % [e["kind"] for e in nulls]
assert all(e["supported"] is True for e in nulls), "/dev/null marked unsupported"
for fd in (pr, pw):
    assert fds[fd]["supported"] is False, "pipe fd %d has supported=%r" % (fd, fds[fd]["supported"])
' "$CASE_DIR/j" "$f" "$reg" "$pr" "$pw"
}

# 4 GiB mapped, 10 MiB of it touched: only touched pages are stored.
t_sparse() {
	local d=$CASE_DIR/img size
	spawn "$CASE_DIR/t.out" "$TARGETS/bigmem" 16 sparse
	local pid=$TPID
	dump_ok "$pid" "$d" --leave-running
	size=$(stat -c %s "$d/crest.core")
	[ "$size" -lt $((64 << 20)) ] || fail "image is $size bytes, want < 64 MiB"
	show_json "$d" "$CASE_DIR/j"
	jcheck '
MiB = 1 << 20
big = [m for m in j["mappings"] if h(m["end"]) - h(m["start"]) == 4096 * MiB]
assert len(big) == 1, "no single 4 GiB mapping in the image"
assert h(big[0]["mapped"]) == 4096 * MiB, "4 GiB mapping: mapped %r" % big[0]["mapped"]
st = h(big[0]["stored"])
assert 10 * MiB <= st < 64 * MiB, "4 GiB mapping: stored %d bytes, want 10 MiB (touched) .. 64 MiB" % st
tot = h(j["totals"]["stored"])
assert tot >= 26 * MiB, "totals.stored %d, want >= 26 MiB (16 MiB + 10 MiB touched)" % tot
assert h(j["totals"]["mapped"]) >= 4096 * MiB, "totals.mapped %r < 4 GiB" % j["totals"]["mapped"]
' "$CASE_DIR/j"
	# The 64 MiB that bigmem only read maps the shared zero page: resident,
	# but nothing to store.
	local zr
	zr=$(sed -n 's/^zeroread=\(0x[0-9a-f]*\)-.*/\1/p' "$CASE_DIR/t.out")
	[ -n "$zr" ] || fail "bigmem did not report its zero-page region: $(excerpt "$CASE_DIR/t.out")"
	ZR=$zr jcheck '
import os
z = [m for m in j["mappings"] if h(m["start"]) == int(os.environ["ZR"], 16)]
assert len(z) == 1, "zero-read mapping %s not in the image" % os.environ["ZR"]
assert h(z[0]["mapped"]) == 64 << 20, "zero-read mapping is %r bytes" % z[0]["mapped"]
assert h(z[0]["rss"]) >= 32 << 20, "zero-read mapping not resident (rss %r): the test proves nothing" % z[0]["rss"]
assert h(z[0]["stored"]) == 0, "zero-page mapping stored %r bytes, want 0" % z[0]["stored"]
' "$CASE_DIR/j"
	expect_alive "$pid" "after dump --leave-running"
}

# crest check: an intact image of an unchanged program passes; once a file
# the image maps has changed, check names it and fails.
t_check() {
	local d=$CASE_DIR/img prog=$CASE_DIR/counter-copy
	cp "$TARGETS/counter" "$prog" || fail "cannot copy the counter target"
	spawn "$CASE_DIR/t.out" "$prog"
	dump_ok "$TPID" "$d"
	wait_exit "$TPID" 5 || fail "the target was not killed by a default dump"
	crest_ok check "$d"
	grep -q "intact" "$CASE_DIR/out" || fail "check printed no verdict: $(excerpt "$CASE_DIR/out")"
	touch -d '2001-01-01' "$prog"
	crest check "$d"
	[ "$RC" -ne 0 ] || fail "check passed although $prog changed after the dump"
	grep -q "counter-copy.*changed" "$CASE_DIR/err" ||
		fail "check does not name the changed file: $(excerpt "$CASE_DIR/err")"
	rm -f "$prog"
	crest check "$d"
	[ "$RC" -ne 0 ] || fail "check passed although $prog is gone"
	grep -q "counter-copy.*cannot be found" "$CASE_DIR/err" ||
		fail "check does not name the missing file: $(excerpt "$CASE_DIR/err")"
}

# ---- restore -------------------------------------------------------------

# restore_bg DIR: `crest restore -i DIR` in the background; crest stays the
# restored process's parent and exits with its status.  Sets RPID.
restore_bg() {
	timeout -k 5 120 "$CREST" restore -i "$1" >"$CASE_DIR/rout" 2>"$CASE_DIR/rerr" &
	RPID=$!
	echo "$RPID" >>"$CASE_DIR/pids"
}

# wait_restored PID: until crest restore reports PID running again.
wait_restored() {
	local i
	for ((i = 0; i < 200; i++)); do
		if grep -q "restored pid $1" "$CASE_DIR/rerr" 2>/dev/null && alive "$1"; then
			return 0
		fi
		if ! kill -0 "$RPID" 2>/dev/null; then
			fail "crest restore ended before pid $1 ran: $(excerpt "$CASE_DIR/rerr")"
		fi
		sleep 0.05
	done
	fail "pid $1 not restored after 10 s: $(excerpt "$CASE_DIR/rerr")"
}

# wait_crest: wait for the background crest restore; its status in RSTATUS.
wait_crest() {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$RPID" 2>/dev/null && fail "crest restore still running 10 s after its process should have ended"
	wait "$RPID"
	RSTATUS=$?
}

# n=... lines of the counter must run on by one, with no gap and no repeat.
check_counter_seq() {
	"$PY" - "$1" <<'PYEOF' || fail "counter output is not consecutive: $(excerpt "$1" 8)"
import sys
ns = [int(l.split("=")[1]) for l in open(sys.argv[1]) if l.startswith("n=")]
assert len(ns) >= 3, ns
assert all(b == a + 1 for a, b in zip(ns, ns[1:])), ns
PYEOF
}

# The seed's counter: dump (killing it), restore, and again: the count
# goes on from n with no gap and no repeat, at the same PID.
t_r_counter() {
	spawn "$CASE_DIR/t.out" "$TARGETS/counter"
	local pid=$TPID round
	for round in 1 2; do
		sleep 0.4
		dump_ok "$pid" "$CASE_DIR/img$round"
		[ "$round" = 1 ] && { wait_exit "$pid" || fail "dump did not kill the counter"; }
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		local before
		before=$(grep -c '^n=' "$CASE_DIR/t.out")
		restore_bg "$CASE_DIR/img$round"
		wait_restored "$pid"
		sleep 0.5
		[ "$(grep -c '^n=' "$CASE_DIR/t.out")" -gt "$before" ] || fail "round $round: the restored counter prints nothing"
		check_counter_seq "$CASE_DIR/t.out"
	done
	kill -TERM "$pid"
	wait_crest
}

# Memory patterns everywhere, 1000 small mappings, 8 threads with TLS and
# pthread_join, handler on an altstack, a pending blocked signal, file
# offset and O_APPEND: the restored process checks itself.
t_r_memcheck() {
	local d=$CASE_DIR
	seq 1 400 >"$d/off"
	spawn "$d/t.out" "$TARGETS/memcheck" "$d/map" "$d/off" "$d/app"
	local pid=$TPID
	dump_ok "$pid" "$d/img"
	wait_exit "$pid" || fail "dump did not kill the target"
	restore_bg "$d/img"
	wait_restored "$pid"
	kill -USR1 "$pid"
	wait_crest
	grep -q "CHECK OK" "$d/t.out" || fail "self-check after restore: $(excerpt "$d/t.out") $(excerpt "$d/t.out.err")"
	[ "$RSTATUS" -eq 0 ] || fail "crest restore exited $RSTATUS (the restored process's status)"
}

# x87/SSE/AVX/AVX-512 registers and GPRs survive dump + restore.
t_r_regs() {
	spawn "$CASE_DIR/t.out" "$TARGETS/regcheck"
	local pid=$TPID c1 c2
	sleep 0.3
	dump_ok "$pid" "$CASE_DIR/img"
	wait_exit "$pid" || fail "dump did not kill the target"
	restore_bg "$CASE_DIR/img"
	wait_restored "$pid"
	sleep 0.5
	c1=$(last_count "$CASE_DIR/t.out")
	sleep 0.3
	c2=$(last_count "$CASE_DIR/t.out")
	grep -q 'REGCHECK FAIL' "$CASE_DIR/t.out.err" && fail "$(excerpt "$CASE_DIR/t.out.err")"
	if [ -z "$c1" ] || [ -z "$c2" ] || [ "$c2" -le "$c1" ]; then
		fail "spin counter not advancing after restore ($c1 -> $c2)"
	fi
	expect_alive "$pid" "after restore"
}

# Realtime signals in flight and a pending SIGUSR2 survive a restore; the
# handler still counts.  sigcount exits 0 only if nothing was lost.
t_r_signals() {
	spawn "$CASE_DIR/t.out" "$TARGETS/sigcount"
	local pid=$TPID
	sleep 0.3
	dump_ok "$pid" "$CASE_DIR/img"
	wait_exit "$pid" || fail "dump did not kill the target"
	restore_bg "$CASE_DIR/img"
	wait_restored "$pid"
	sleep 0.5
	kill -TERM "$pid"
	wait_crest
	[ "$RSTATUS" -eq 0 ] || fail "sigcount after restore exited $RSTATUS: $(excerpt "$CASE_DIR/t.out" 2)"
}

# A thread blocked in futex() is still blocked in futex() after restore;
# the nanosleep thread comes back too (EINTR, like after a handled signal).
t_r_blocked() {
	spawn "$CASE_DIR/t.out" "$TARGETS/sleeper"
	local pid=$TPID tid
	dump_ok "$pid" "$CASE_DIR/img"
	wait_exit "$pid" || fail "dump did not kill the target"
	restore_bg "$CASE_DIR/img"
	wait_restored "$pid"
	sleep 0.3
	tid=$(sed -n 's/.*waiter=\([0-9]*\).*/\1/p' "$CASE_DIR/t.out")
	[ -n "$tid" ] || fail "sleeper did not report its waiter: $(excerpt "$CASE_DIR/t.out")"
	[ -d "/proc/$pid/task/$tid" ] || fail "waiter thread $tid not restored with its TID"
	[ "$(syscall_of "$pid" "$tid")" = 202 ] || fail "waiter thread is not back in futex() (syscall $(syscall_of "$pid" "$tid"))"
	expect_alive "$pid" "after restore"
}

# python3 looping over a large dict goes on after restore.
t_r_python() {
	spawn "$CASE_DIR/t.out" "$PY" -c '
import os, sys, time
d = {i: str(i) * 3 for i in range(200000)}
print("pid=%d ready" % os.getpid(), flush=True)
n = 0
while True:
    s = 0
    for k, v in d.items():
        s += k
    n += 1
    print("loop=%d sum=%d" % (n, s), flush=True)
    time.sleep(0.05)
'
	local pid=$TPID l1 l2
	sleep 0.5
	dump_ok "$pid" "$CASE_DIR/img"
	wait_exit "$pid" || fail "dump did not kill python"
	l1=$(grep -c '^loop=' "$CASE_DIR/t.out")
	restore_bg "$CASE_DIR/img"
	wait_restored "$pid"
	sleep 1
	l2=$(grep -c '^loop=' "$CASE_DIR/t.out")
	[ "$l2" -gt "$l1" ] || fail "python printed nothing after restore ($l1 -> $l2 loops)"
	grep '^loop=' "$CASE_DIR/t.out" | grep -v "sum=19999900000" && fail "python computed a wrong sum after restore"
	expect_alive "$pid" "after restore"
}

# Restoring while the original still runs: its PID is taken.
t_r_pid_taken() {
	spawn "$CASE_DIR/t.out" "$TARGETS/counter"
	local pid=$TPID
	dump_ok "$pid" "$CASE_DIR/img" --leave-running
	crest restore -i "$CASE_DIR/img"
	[ "$RC" -ne 0 ] || fail "restore succeeded although pid $pid is in use"
	grep -q -- "pid $pid is in use" "$CASE_DIR/err" || fail "message does not say the pid is taken: $(excerpt "$CASE_DIR/err")"
	grep -q -- "--pidns" "$CASE_DIR/err" || fail "message does not suggest --pidns: $(excerpt "$CASE_DIR/err")"
	expect_alive "$pid" "the original after the refused restore"
}

# A copy restored into a new PID namespace while the original still runs:
# inside, it has the original's PID; both go on counting.
t_r_pidns() {
	spawn "$CASE_DIR/t.out" "$TARGETS/counter"
	local pid=$TPID init copy i p1 p2
	dump_ok "$pid" "$CASE_DIR/img" --leave-running
	timeout -k 5 120 "$CREST" restore -i "$CASE_DIR/img" --pidns >"$CASE_DIR/rout" 2>"$CASE_DIR/rerr" &
	RPID=$!
	echo "$RPID" >>"$CASE_DIR/pids"
	for ((i = 0; i < 200; i++)); do
		grep -q "restored pid" "$CASE_DIR/rerr" 2>/dev/null && break
		kill -0 "$RPID" 2>/dev/null || fail "crest restore --pidns ended: $(excerpt "$CASE_DIR/rerr")"
		sleep 0.05
	done
	copy=$(sed -n 's/.*restored pid \([0-9]*\):.*/\1/p' "$CASE_DIR/rerr")
	[ -n "$copy" ] || fail "no restored pid reported: $(excerpt "$CASE_DIR/rerr")"
	echo "$copy" >>"$CASE_DIR/pids"
	init=$(cat "/proc/$RPID/task/$RPID/children" 2>/dev/null)
	[ -n "$init" ] || fail "crest restore --pidns has no child (the namespace's init)"
	grep -q "^NSpid:[[:space:]]*${copy}[[:space:]]*${pid}\$" "/proc/$copy/status" ||
		fail "the copy's NSpid is not '$copy $pid': $(grep NSpid "/proc/$copy/status")"
	expect_alive "$pid" "the original beside the copy"
	p1=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$copy/fdinfo/1")
	sleep 0.5
	p2=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$copy/fdinfo/1")
	[ "$p2" -gt "$p1" ] || fail "the copy is not counting (stdout offset $p1 -> $p2)"
	kill -TERM "$copy"
	wait_crest
}

# Another user's process comes back as that user: uids, gids, no
# capabilities, and its resource limits.
t_r_creds() {
	need setpriv
	spawn "$CASE_DIR/t.out" setpriv --reuid=65534 --regid=65534 --clear-groups "$TARGETS/counter"
	local pid=$TPID want
	want=$(grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapInh)' "/proc/$pid/status")
	dump_ok "$pid" "$CASE_DIR/img"
	wait_exit "$pid" || fail "dump did not kill the counter"
	restore_bg "$CASE_DIR/img"
	wait_restored "$pid"
	local got
	got=$(grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapInh)' "/proc/$pid/status")
	[ "$got" = "$want" ] || fail "credentials after restore: $(echo "$got" | tr '\n' ' ') want $(echo "$want" | tr '\n' ' ')"
	sleep 0.3
	check_counter_seq "$CASE_DIR/t.out"
	kill -TERM "$pid"
	wait_crest
}

# --shell-job: the restored process writes to crest restore's own stdout.
t_r_shell_job() {
	spawn "$CASE_DIR/t.out" "$TARGETS/counter"
	local pid=$TPID
	sleep 0.3
	dump_ok "$pid" "$CASE_DIR/img"
	wait_exit "$pid" || fail "dump did not kill the counter"
	timeout -k 5 60 "$CREST" restore -i "$CASE_DIR/img" --shell-job >"$CASE_DIR/rout" 2>"$CASE_DIR/rerr" &
	RPID=$!
	echo "$RPID" >>"$CASE_DIR/pids"
	wait_restored "$pid"
	sleep 0.4
	grep -q '^n=' "$CASE_DIR/rout" || fail "nothing counted on crest's stdout: $(excerpt "$CASE_DIR/rout")"
	kill -TERM "$pid"
	wait_crest
}

# Routing vDSO calls: the process keeps calling its old vDSO addresses,
# which now jump into this kernel's vDSO, moved elsewhere; the clocks it
# reads stay right.  (Restore does this itself when the vDSOs differ.)
t_r_route_vdso() {
	spawn "$CASE_DIR/t.out" "$TARGETS/clock"
	local pid=$TPID old t1 t2
	old=$(awk '/\[vdso\]/ { split($1, a, "-"); print a[1] }' "/proc/$pid/maps")
	[ -n "$old" ] || fail "the target has no [vdso]"
	dump_ok "$pid" "$CASE_DIR/img"
	wait_exit "$pid" || fail "dump did not kill the target"
	timeout -k 5 60 "$CREST" -v restore -i "$CASE_DIR/img" --route-vdso >"$CASE_DIR/rout" 2>"$CASE_DIR/rerr" &
	RPID=$!
	echo "$RPID" >>"$CASE_DIR/pids"
	wait_restored "$pid"
	grep -q "routing the process's vDSO calls" "$CASE_DIR/rerr" || fail "restore did not route: $(excerpt "$CASE_DIR/rerr")"
	grep -q "^$old-.* r-xp .*00:00 0 *\$" "/proc/$pid/maps" || fail "the old vDSO address $old holds no trampoline mapping"
	grep -q "^$old-.*\[vdso\]" "/proc/$pid/maps" && fail "the kernel's [vdso] is still at the old address $old"
	t1=$(grep -c '^tick=' "$CASE_DIR/t.out")
	sleep 0.5
	t2=$(grep -c '^tick=' "$CASE_DIR/t.out")
	[ "$t2" -gt "$t1" ] || fail "no clock ticks after restore ($t1 -> $t2)"
	grep -q 'CLOCK FAIL' "$CASE_DIR/t.out.err" && fail "$(excerpt "$CASE_DIR/t.out.err")"
	kill -TERM "$pid"
	wait_crest
}

# Bad images: each refused with a clear error before anything runs.
t_r_bad_images() {
	local d=$CASE_DIR prog=$CASE_DIR/counter-copy size
	cp "$TARGETS/counter" "$prog"
	spawn "$d/t.out" "$prog"
	local pid=$TPID
	dump_ok "$pid" "$d/img"
	wait_exit "$pid" || fail "dump did not kill the target"
	size=$(stat -c %s "$d/img/crest.core")
	bad() { # NAME: restore must fail, name the problem, leave no process
		crest restore -i "$d/$1"
		[ "$RC" -ne 0 ] || fail "$1: restore succeeded"
		grep -q "$2" "$CASE_DIR/err" || fail "$1: message lacks '$2': $(excerpt "$CASE_DIR/err")"
		kill -0 "$pid" 2>/dev/null && fail "$1: pid $pid is running after a refused restore"
		return 0
	}
	mkdir "$d/trunc" "$d/note" "$d/page" "$d/newer"
	head -c $((size - 5000)) "$d/img/crest.core" >"$d/trunc/crest.core"
	bad trunc "damaged"
	cp "$d/img/crest.core" "$d/note/crest.core"
	"$PY" - "$d/note/crest.core" <<'PYEOF'
import struct, sys
f = open(sys.argv[1], "r+b"); d = f.read()
phoff = struct.unpack_from("<Q", d, 32)[0]
noff = struct.unpack_from("<Q", d, phoff + 8)[0]   # PT_NOTE p_offset
f.seek(noff + 100); b = d[noff + 100]; f.write(bytes([b ^ 0x40]))
PYEOF
	bad note "headers or notes"
	cp "$d/img/crest.core" "$d/page/crest.core"
	"$PY" - "$d/page/crest.core" <<'PYEOF'
import struct, sys
f = open(sys.argv[1], "r+b"); d = f.read()
phoff = struct.unpack_from("<Q", d, 32)[0]
off, filesz = struct.unpack_from("<Q", d, phoff + 56 + 8)[0], struct.unpack_from("<Q", d, phoff + 56 + 32)[0]
f.seek(off + filesz // 2); f.write(bytes([d[off + filesz // 2] ^ 1]))
PYEOF
	bad page "memory of"
	cp "$d/img/crest.core" "$d/newer/crest.core"
	"$PY" - "$d/newer/crest.core" <<'PYEOF'
import struct, sys
f = open(sys.argv[1], "r+b"); d = f.read()
phoff = struct.unpack_from("<Q", d, 32)[0]
noff = struct.unpack_from("<Q", d, phoff + 8)[0]
# first note is CREST META: 12-byte header, "CREST\0" padded to 8, 16-byte table header, then image_version
f.seek(noff + 12 + 8 + 16); f.write(struct.pack("<I", 99))
PYEOF
	bad newer "newer crest"
	touch -d 2001-01-01 "$prog"
	bad img "has changed since the dump"
}

# ---- bad input ---------------------------------------------------------

t_bad_nopid() {
	local d=$CASE_DIR/img pid
	pid=$(free_pid) || fail "cannot run: no free pid found"
	crest dump -p "$pid" -o "$d"
	expect_refused "$pid" "$d"
}

t_bad_kthread() {
	local d=$CASE_DIR/img comm
	comm=$(cat /proc/2/comm 2>/dev/null)
	[ "$comm" = kthreadd ] || fail "cannot run: pid 2 is '$comm', not kthreadd (pid namespace?)"
	crest dump -p 2 -o "$d"
	expect_refused 2 "$d"
	[ "$(pstate 2)" != "" ] || fail "kthreadd is gone"
}

t_bad_self() {
	local d=$CASE_DIR/img pid
	local start=$SECONDS
	# shellcheck disable=SC2016 # $$ and $1 are for the inner sh
	timeout -k 5 "$CMD_TIMEOUT" sh -c 'echo $$ >"$2"; exec "$0" dump -p $$ -o "$1"' \
		"$CREST" "$d" "$CASE_DIR/selfpid" >"$CASE_DIR/out" 2>"$CASE_DIR/err"
	RC=$?
	timed_out "$start" "crest dumping itself"
	pid=$(cat "$CASE_DIR/selfpid")
	expect_refused "$pid" "$d"
}

t_bad_zombie() {
	local d=$CASE_DIR/img helper z="" i f st s pp
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
		done
		exec sh -c 'sleep 0 & exec sleep 30'
	) </dev/null >/dev/null 2>&1 &
	helper=$!
	echo "$helper" >>"$CASE_DIR/pids"
	for ((i = 0; i < 100; i++)); do
		[ -n "$z" ] && break
		sleep 0.05
		[ "$(pstate "$helper")" = S ] || continue
		for f in /proc/[0-9]*/stat; do
			st=$(cat "$f" 2>/dev/null) || continue
			st=${st##*) }
			read -r s pp _ <<<"$st"
			if [ "$s" = Z ] && [ "$pp" = "$helper" ]; then
				z=${f#/proc/}
				z=${z%/stat}
				break
			fi
		done
	done
	[ -n "$z" ] || fail "cannot run: no zombie child of helper $helper appeared"
	crest dump -p "$z" -o "$d"
	expect_refused "$z" "$d"
	[ "$(pstate "$z")" = Z ] || fail "zombie $z changed state to '$(pstate "$z")'"
	expect_alive "$helper" "zombie's parent"
}

t_bad_perm() {
	local d=$CASE_DIR/permdir
	need_root "to run crest as another user"
	need setpriv
	spawn "$CASE_DIR/t.out" "$TARGETS/counter"
	local pid=$TPID
	chmod 711 "$CASE_DIR"
	mkdir "$d" || fail "cannot run: cannot make $d"
	chown 65534:65534 "$d" || fail "cannot run: cannot give $d to nobody"
	local start=$SECONDS
	timeout -k 5 "$CMD_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$CREST" dump -p "$pid" -o "$d" >"$CASE_DIR/out" 2>"$CASE_DIR/err"
	RC=$?
	timed_out "$start" "crest as nobody"
	grep -q 'setpriv:' "$CASE_DIR/err" && fail "cannot run: $(excerpt "$CASE_DIR/err")"
	expect_refused "$pid" "$d"
	grep -qiE 'permi|privilege' "$CASE_DIR/err" ||
		fail "message does not say permission is missing: $(excerpt "$CASE_DIR/err")"
	expect_alive "$pid" "after the refused dump"
	expect_progress "$CASE_DIR/t.out" "after the refused dump"
}

t_bad_rodir() {
	local d=$CASE_DIR/ro
	need_root "to mount a tmpfs"
	spawn "$CASE_DIR/t.out" "$TARGETS/counter"
	local pid=$TPID
	mount_tmpfs "$d" ro,size=1m
	crest dump -p "$pid" -o "$d"
	expect_refused "$pid" "$d"
	expect_alive "$pid" "after the refused dump"
	expect_progress "$CASE_DIR/t.out" "after the refused dump"
}

t_bad_full() {
	local d=$CASE_DIR/full left
	need_root "to mount a tmpfs"
	spawn "$CASE_DIR/t.out" "$TARGETS/bigmem" 8
	local pid=$TPID
	mount_tmpfs "$d" size=1m
	crest dump -p "$pid" -o "$d"
	expect_refused "$pid" "$d"
	grep -qi space "$CASE_DIR/err" || fail "message does not mention space: $(excerpt "$CASE_DIR/err")"
	left=$(find "$d" -mindepth 1 | head -n 5 | tr '\n' ' ')
	[ -z "$left" ] || fail "files left in the full directory: $left"
	expect_alive "$pid" "after the failed dump"
}

# ---- damaged images --------------------------------------------------------

t_corrupt() {
	local d=$CASE_DIR/img c=$CASE_DIR/flip t=$CASE_DIR/trunc off
	spawn "$CASE_DIR/t.out" "$TARGETS/counter"
	local pid=$TPID
	dump_ok "$pid" "$d"
	crest_ok show "$d"
	[ -s "$CASE_DIR/out" ] || fail "crest show printed nothing"
	show_json "$d" "$CASE_DIR/j"
	mkdir -p "$c" "$t"
	cp "$d/crest.core" "$c/crest.core"
	cp "$d/crest.core" "$t/crest.core"

	# Flip one byte in the middle of the largest PT_LOAD segment.
	off=$("$PY" - "$c/crest.core" 2>&1 <<'EOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    eh = f.read(64)
    assert eh[:4] == b"\x7fELF"
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    best = None
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        p_type, _, p_offset, _, _, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
        if p_type == 1 and p_filesz > 0 and (best is None or p_filesz > best[1]):
            best = (p_offset, p_filesz)
    off = best[0] + best[1] // 2
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xff]))
    print(off)
EOF
	) || fail "could not find a PT_LOAD segment to corrupt: $off"
	crest show "$c"
	[ "$RC" -ne 0 ] || fail "crest show accepted an image with byte $off flipped"
	case $(head -n 1 "$CASE_DIR/err") in
	"crest: "*) ;;
	*) fail "stderr does not start with 'crest: ': $(excerpt "$CASE_DIR/err")" ;;
	esac
	grep -qi checksum "$CASE_DIR/err" || fail "no checksum error for a flipped byte: $(excerpt "$CASE_DIR/err")"

	truncate -s $(($(stat -c %s "$t/crest.core") / 2)) "$t/crest.core"
	crest show "$t"
	[ "$RC" -ne 0 ] || fail "crest show accepted a truncated image"
	case $(head -n 1 "$CASE_DIR/err") in
	"crest: "*) ;;
	*) fail "stderr does not start with 'crest: ' for a truncated image: $(excerpt "$CASE_DIR/err")" ;;
	esac
	crest show "$t" --json
	[ "$RC" -ne 0 ] || fail "crest show --json accepted a truncated image"
}

# ---- runner ----------------------------------------------------------------

CASES=(static threads8 python leave_running_regs leave_running_signals syscall_state
	fds sparse check r_counter r_memcheck r_regs r_signals r_blocked r_python r_pid_taken r_pidns r_creds r_shell_job r_route_vdso r_bad_images
	bad_nopid bad_kthread bad_self bad_zombie bad_perm bad_rodir bad_full corrupt)
[ $# -gt 0 ] && CASES=("$@")

run_cases "$CREST" -- "${CASES[@]}"
