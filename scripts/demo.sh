#!/usr/bin/env bash
# crest demo: dump a running counter, look at the image, and show that the
# counter keeps counting (--leave-running).  `make demo` builds first; this
# script builds nothing.
#
# Environment (defaults in brackets):
#   CREST    the crest binary             [build/crest]
#   TARGETS  directory of test targets    [build/targets]
set -euo pipefail

cd "$(dirname "$0")/.."

CREST=${CREST:-build/crest}
COUNTER=${TARGETS:-build/targets}/counter

work=""
counter_pid=""

cleanup() {
	if [ -n "$counter_pid" ] && kill -0 "$counter_pid" 2>/dev/null; then
		kill "$counter_pid" 2>/dev/null || true
		wait "$counter_pid" 2>/dev/null || true
	fi
	if [ -n "$work" ]; then
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }
die() {
	printf 'demo: FAILED: %s\n' "$*" >&2
	exit 1
}

# The last n=<n> the counter printed (empty if none yet).
last_n() { grep -o 'n=[0-9]*' "$work/counter.log" | tail -n 1 | cut -d= -f2 || true; }

[ -x "$CREST" ] || die "$CREST not found: run 'make demo' (it builds crest first)"
[ -x "$COUNTER" ] || die "$COUNTER not found: run 'make demo' (it builds the test targets first)"
for tool in readelf gdb; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/deps.sh as root"
done

work=$(mktemp -d /tmp/crest-demo.XXXXXX)
img="$work/image"

step "starting $COUNTER (prints n=<n> every 100 ms)"
# Only stdin (/dev/null) and stdout/stderr (a log file) open in the counter:
# an fd inherited from whoever runs the demo (a pipe, a socket) would
# rightly make crest refuse the dump.
(
	for f in /proc/self/fd/*; do
		fd=${f##*/}
		if [ "$fd" -gt 2 ]; then exec {fd}>&-; fi
	done
	exec "$COUNTER"
) </dev/null >"$work/counter.log" 2>&1 &
counter_pid=$!
sleep 1
kill -0 "$counter_pid" 2>/dev/null || die "the counter exited at once; its output: $(cat "$work/counter.log")"
n_before=$(last_n)
[ -n "$n_before" ] || die "the counter printed no n=<n> line within 1 s"
echo "PID $counter_pid, last printed: n=$n_before"

step "$CREST dump -p $counter_pid -o $img --leave-running"
"$CREST" dump -p "$counter_pid" -o "$img" --leave-running || die "crest dump failed (exit status $?)"
[ -f "$img/crest.core" ] || die "crest dump succeeded but $img/crest.core does not exist"
kill -0 "$counter_pid" 2>/dev/null || die "the counter is gone after a --leave-running dump"
ls -l "$img"

step "$CREST show $img"
"$CREST" show "$img" || die "crest show failed (exit status $?)"

step "readelf -n: the notes (standard CORE/LINUX notes, then crest's own)"
notes=$(readelf -n "$img/crest.core") || die "readelf -n could not read $img/crest.core"
# Headlines only: one line per note, without NT_FILE's list of files.
grep -E '^(Displaying|  [^ ])' <<<"$notes" || true
grep -q NT_PRSTATUS <<<"$notes" || die "readelf found no NT_PRSTATUS note in $img/crest.core"
loads=$(readelf -lW "$img/crest.core" | grep -c '^ *LOAD') || die "readelf found no PT_LOAD segment in $img/crest.core"
echo "$loads PT_LOAD segments (the stored page runs)"

step "gdb -batch $COUNTER $img/crest.core: backtrace and counter_value"
gdb_out=$(env -u DEBUGINFOD_URLS gdb -nx -batch -iex 'set debuginfod enabled off' \
	-ex 'bt' -ex 'print counter_value' "$COUNTER" "$img/crest.core" 2>&1) ||
	die "gdb failed on the image: $gdb_out"
echo "$gdb_out"
if grep -q 'reg-xstate.*too small' <<<"$gdb_out"; then
	echo "(note: gdb 13 assumes Intel's XSAVE layout, and this CPU's is smaller, so gdb shows no AVX registers;"
	echo " backtraces, general registers and memory are not affected)"
fi
image_n=$(sed -n "s/^[\$]1 = \([0-9][0-9]*\).*/\1/p" <<<"$gdb_out")
[ -n "$image_n" ] || die "gdb could not print counter_value from the image"

step "the counter is still counting"
sleep 0.5
n_after=$(last_n)
sleep 0.5
n_later=$(last_n)
echo "printed before the dump: n=$n_before; in the image: counter_value=$image_n; now: n=$n_after, then n=$n_later"
[ "$n_later" -gt "$n_after" ] || die "the counter stopped counting after the dump (n=$n_after, then n=$n_later)"
# Allow for the counter printing before or after it increments.
if [ "$image_n" -lt $((n_before - 1)) ] || [ "$image_n" -gt $((n_after + 1)) ]; then
	die "counter_value in the image ($image_n) is not between the values printed before ($n_before) and after ($n_after) the dump"
fi

step "stopping the counter and cleaning up"
kill "$counter_pid"
wait "$counter_pid" 2>/dev/null || true
counter_pid=""

printf '\ndemo: OK\n'
