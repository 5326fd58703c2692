#!/usr/bin/env bash
# crest demo: crestd supervises a counter; `crest checkpoint` stops it into
# a checkpoint, `crest restore` brings it back, and it counts on from where
# it stopped.  `make demo` builds crest, crestd and the test targets first;
# this script builds nothing.  Everything lives in a temporary directory
# (configuration, store, socket), which is removed at the end.
#
# Environment (defaults in brackets):
#   CREST    the crest binary             [build/crest]
#   CRESTD   the crestd binary            [build/crestd]
#   TARGETS  directory of test targets    [build/targets]
set -euo pipefail

t0=$EPOCHREALTIME
cd "$(dirname "$0")/.."

CREST=${CREST:-build/crest}
CRESTD=${CRESTD:-build/crestd}
COUNTER=${TARGETS:-build/targets}/counter

work=""
crestd_pid=""
counter_pid=""

step() { printf '\n=== %s ===\n' "$*"; }
die() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	if [ -n "$work" ] && [ -s "$work/crestd.out" ]; then
		printf 'crestd said:\n' >&2
		sed 's/^/  /' "$work/crestd.out" >&2
	fi
	exit 1
}

# The CLI, with a time limit so that a wedged crestd fails the demo
# instead of hanging it.
crest() { timeout 10 "$CREST" "$@"; }
# Show a command the way a user would type it, then run it.
show() {
	printf '$ crest %s\n' "$*"
	crest "$@"
}

# Is $1 still the counter (and not a recycled PID)?
is_counter() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$COUNTER" ]; }

cleanup() {
	if [ -n "$crestd_pid" ] && kill -0 "$crestd_pid" 2>/dev/null; then
		kill -TERM "$crestd_pid" 2>/dev/null || true
		wait "$crestd_pid" 2>/dev/null || true
	fi
	# crestd stops its components when it goes; should it have died
	# instead, the counter (in a session of its own) would be left over.
	if [ -n "$counter_pid" ] && is_counter "$counter_pid"; then
		kill -KILL "$counter_pid" 2>/dev/null || true
	fi
	if [ -n "$work" ]; then
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The component's state and PID, from `crest ps`.
ps_field() { crest ps | awk -v f="$1" '$1 == "counter" { print $f }'; }
state() { ps_field 2; }
pid() { ps_field 3; }

# Every n=<n> the counter printed, in the order it printed them.
counts() { crest logs counter | sed -n 's/^[^ ]* n=\([0-9][0-9]*\)$/\1/p'; }

for bin in "$CREST" "$CRESTD" "$COUNTER"; do
	[ -x "$bin" ] || die "$bin not found: run 'make demo' (it builds everything first)"
done
CREST=$(realpath "$CREST")
CRESTD=$(realpath "$CRESTD")
COUNTER=$(realpath "$COUNTER")
case $COUNTER in
*"'"*) die "the path $COUNTER holds a single quote, which this demo cannot put in a configuration" ;;
esac

work=$(mktemp -d /tmp/crest-demo.XXXXXX)
export CREST_SOCKET="$work/crestd.sock"
store="$work/store"

step "1. start crestd with one component, the counter (prints n=<n> every 100 ms)"
cat >"$work/crestd.conf" <<EOF
[crestd]
store = $store
socket = $CREST_SOCKET

[component counter]
command = '$COUNTER'
restart = no
keep = 3
EOF
printf '%s:\n' "$work/crestd.conf"
sed 's/^./  &/' "$work/crestd.conf"
# Only stdin, stdout and stderr open in crestd: whatever else the demo's
# caller left open (a pipe, a socket) is none of crestd's business, and
# would keep that caller waiting for as long as crestd runs.
(
	for f in /proc/self/fd/*; do
		fd=${f##*/}
		if [ "$fd" -gt 2 ]; then exec {fd}>&-; fi
	done
	exec "$CRESTD" -c "$work/crestd.conf"
) </dev/null >"$work/crestd.out" 2>&1 &
crestd_pid=$!
for _ in $(seq 50); do
	[ -S "$CREST_SOCKET" ] && break
	kill -0 "$crestd_pid" 2>/dev/null || die "crestd exited at once"
	sleep 0.1
done
[ -S "$CREST_SOCKET" ] || die "crestd did not create its socket $CREST_SOCKET within 5 s"
echo "crestd is PID $crestd_pid, serving $CREST_SOCKET (CREST_SOCKET points the CLI at it)"

step "2. the counter runs under crestd"
sleep 1
show ps || die "crest ps failed"
[ "$(state)" = running ] || die "the counter is not running: state '$(state)'"
counter_pid=$(pid)
is_counter "$counter_pid" || die "PID $counter_pid is not the counter"
printf '$ crest logs counter | tail -n 3\n'
logs=$(crest logs counter) || die "crest logs counter failed"
tail -n 3 <<<"$logs"
[ -n "$(counts)" ] || die "the counter has logged no n=<n> line after 1 s"

step "3. checkpoint it (without --leave-running, the checkpoint ends it)"
show checkpoint counter || die "crest checkpoint counter failed"
sleep 0.2 # let crestd log the last lines the counter wrote
show ps || die "crest ps failed"
[ "$(state)" = checkpointed ] || die "after the checkpoint the state is '$(state)', not 'checkpointed'"
show checkpoints counter || die "crest checkpoints counter failed"
echo "the store:"
find "$store/counter" -mindepth 1 -printf '  %M %8s  %P\n' | sort -k 3
[ -f "$store/counter/1/crest.core" ] || die "checkpoint 1 has no crest.core"
before=$(counts)
n_before=$(tail -n 1 <<<"$before")
echo "last count before the checkpoint: n=$n_before"

step "4. the counter's process is gone"
if [ -e "/proc/$counter_pid" ]; then
	ps -o pid,stat,cmd -p "$counter_pid" || true
	die "PID $counter_pid still exists after the checkpoint"
fi
echo "PID $counter_pid: no such process"

step "5. restore it"
show restore counter || die "crest restore counter failed"
show ps || die "crest ps failed"
[ "$(state)" = running ] || die "after the restore the state is '$(state)', not 'running'"
[ "$(pid)" = "$counter_pid" ] || die "restored as PID $(pid), not $counter_pid"
is_counter "$counter_pid" || die "PID $counter_pid is not the counter after the restore"
echo "running again as PID $counter_pid, the PID it had"

step "6. it counts on from where it stopped"
sleep 1
after=$(counts)
n_after=$(sed -n "$(($(wc -l <<<"$before") + 1))p" <<<"$after")
[ -n "$n_after" ] || die "the restored counter has logged nothing new in 1 s"
printf '$ crest logs counter (around the checkpoint)\n'
crest logs counter | awk -v lo=$((n_before - 2)) -v hi=$((n_after + 2)) \
	'match($0, / n=[0-9]+$/) { n = substr($0, RSTART + 3) + 0; if (n >= lo && n <= hi) print }'
echo "last count before the checkpoint: n=$n_before; first after the restore: n=$n_after"
[ "$n_after" -eq $((n_before + 1)) ] || die "the count did not carry on: n=$n_before, then n=$n_after"
# The whole log, too: 0, 1, 2, ... with nothing missed or repeated, and
# the counter started only once.
awk 'NR - 1 != $1 { exit 1 }' <<<"$after" || die "the counts in the log are not 0, 1, 2, ... in order"
ready=$(crest logs counter | grep -c ' pid=[0-9]* ready$' || true)
[ "$ready" -eq 1 ] || die "the counter started $ready times; a restore should not start it again"
echo "OK: n=$n_before, then n=$n_after; the log counts 0..$(tail -n 1 <<<"$after") without a gap"

step "7. stop crestd (SIGTERM): it stops the counter and exits"
kill -TERM "$crestd_pid"
status=0
wait "$crestd_pid" || status=$?
crestd_pid=""
echo "crestd's own output:"
sed 's/^/  /' "$work/crestd.out"
[ "$status" -eq 0 ] || die "crestd exited with status $status"
if is_counter "$counter_pid"; then
	die "the counter (PID $counter_pid) outlived crestd"
fi
counter_pid=""

printf '\ndemo: OK (%s s)\n' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
