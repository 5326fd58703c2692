#!/usr/bin/env bash
# crest bench: dump and restore throughput beside this machine's limits.
#
# For 64 MiB, 1 GiB and 4 GiB of touched memory (build/targets/bigmem) and a
# sparse 4 GiB mapping, dumps the running target several times with
# --leave-running into /dev/shm and prints one table row per case.  The
# first dump of each case is shown apart as "cold" (first use of the image
# pages, caches); the other columns are medians of the later dumps.
# Throughput is image bytes / crest's own "total" time.
#
# Restore (64 MiB, 1 GiB, 4 GiB): after the dumps of a case, one more dump
# without --leave-running kills the target and keeps its image; that image
# is restored as many times as the case was dumped (first = cold), each
# time with `crest restore -i DIR` in the background until it prints its
# "restored pid" line, whose times are the ones reported; then the
# restored process is killed and reaped before the next restore.  The
# restore rows form a second table.  Below the tables: this machine's
# limits, measured in the same run by build/bench/limits.
#
# It reports and does not judge: no timing makes it fail.  It exits non-zero
# only if something could not be measured (a dump failed, a target did not
# start).  `make bench` builds first; this script builds nothing.
#
# Environment (defaults in brackets):
#   CREST    the crest binary                          [build/crest]
#   TARGETS  directory of test targets                 [build/targets]
#   BENCHBIN directory of the bench helpers            [build/bench]
#   CRIU     a criu binary to compare with, run as
#            criu dump -t PID -D DIR --shell-job --leave-running, and for
#            restore criu dump -t PID -D DIR --shell-job (kills it), then
#            criu restore -D DIR --shell-job -d    [unset]
#   RUNS     dumps per case, the cold one included, for 64 MiB, 1 GiB and
#            the sparse case; also restores per size  [5]
#   RUNS_4G  the same for 4 GiB                    [5]
#
# Memory: at most one target (or restored process) and one image exist at
# a time (4 GiB + 4 GiB at the largest), plus ~4 GiB while the limits are
# measured first.
set -euo pipefail

cd "$(dirname "$0")/.."

CREST=${CREST:-build/crest}
TARGETS=${TARGETS:-build/targets}
BENCHBIN=${BENCHBIN:-build/bench}
CRIU=${CRIU:-}
RUNS=${RUNS:-5}
RUNS_4G=${RUNS_4G:-5}

READY_TIMEOUT=300 # seconds for a target to touch its memory (slow in some VMs)
DUMP_TIMEOUT=300  # seconds any single dump may take
RESTORE_TIMEOUT=60 # seconds for crest restore to print its "restored pid" line
GONE_TIMEOUT=30    # seconds for a killed process to disappear from /proc

work=""  # logs
tpid=""  # the running target
img=""   # the image directory being written or restored
rpid=""  # a restored process
cpid=""  # a `crest restore` running in the background (rpid's parent)

cleanup() {
	if [ -n "$rpid" ]; then
		kill -KILL "$rpid" 2>/dev/null || true
		rpid=""
	fi
	if [ -n "$cpid" ]; then
		wait "$cpid" 2>/dev/null || true
		cpid=""
	fi
	if [ -n "$tpid" ]; then
		kill -KILL "$tpid" 2>/dev/null || true
		wait "$tpid" 2>/dev/null || true
		tpid=""
	fi
	if [ -n "$img" ]; then
		rm -rf -- "$img"
		img=""
	fi
	if [ -n "$work" ]; then
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
	printf 'bench: FAILED: %s\n' "$*" >&2
	exit 1
}

# Lines of a file on stderr, indented, for failure messages.
show_log() {
	if [ -s "$1" ]; then
		tail -n "${2:-20}" "$1" | sed 's/^/    /' >&2
	fi
}

now_ns() { date +%s%N; }

# wait_gone PID: wait until /proc/PID no longer exists (the process has
# been reaped, so its PID is free for a restore).
wait_gone() {
	local i
	for ((i = 0; i < GONE_TIMEOUT * 20; i++)); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.05
	done
	die "pid $1 still in /proc ${GONE_TIMEOUT}s after it was killed (not reaped?)"
}

for f in "$CREST" "$TARGETS/bigmem" "$BENCHBIN/limits" "$BENCHBIN/closefds"; do
	[ -x "$f" ] || die "$f not found: run 'make bench' (it builds everything first)"
done
if [ -n "$CRIU" ] && [ ! -x "$CRIU" ]; then
	die "CRIU=$CRIU is not an executable"
fi

for n in "$RUNS" "$RUNS_4G"; do
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 2)); then
		die "RUNS and RUNS_4G must be numbers >= 2 (one cold dump, then the measured ones)"
	fi
done

work=$(mktemp -d /tmp/crest-bench.XXXXXX)

# ---- statistics ----------------------------------------------------------

# median V...: the median of the numbers given (mean of the middle two for
# an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# minmax V...: "min-max" of the numbers given.
minmax() {
	printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'
}

# gibps BYTES MS: throughput in GiB/s.
gibps() { awk -v b="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.2f", b / 1073741824 / (ms / 1000); else print "-" }'; }

# ---- targets -------------------------------------------------------------

# start_target ARGS...: start bigmem ARGS with only fds 0-2 open (an fd
# inherited from whoever runs the bench would make crest refuse the dump)
# and wait until it has touched its memory.  Sets tpid.
start_target() {
	local log=$work/target.log i
	: >"$log"
	"$BENCHBIN/closefds" "$TARGETS/bigmem" "$@" </dev/null >"$log" 2>&1 &
	tpid=$!
	for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
		if grep -q ready "$log"; then
			grep -q "^pid=$tpid ready" "$log" ||
				die "bigmem $*: 'ready' line does not name pid $tpid: $(cat "$log")"
			return 0
		fi
		kill -0 "$tpid" 2>/dev/null || {
			show_log "$log"
			die "bigmem $* exited before it was ready"
		}
		sleep 0.1
	done
	die "bigmem $* not ready after ${READY_TIMEOUT}s"
}

stop_target() {
	kill -KILL "$tpid" 2>/dev/null || true
	wait "$tpid" 2>/dev/null || true
	tpid=""
}

# ---- one dump ------------------------------------------------------------

# crest_once: dump the target once; sets R_TOTAL and R_FROZEN (ms, crest's
# own figures), R_WALL (ms, the whole crest run) and R_BYTES (image size).
crest_once() {
	local out=$work/crest.out t0 t1 line2
	img=$(mktemp -d /dev/shm/crest-bench-XXXX)
	t0=$(now_ns)
	if ! timeout "$DUMP_TIMEOUT" "$CREST" dump -p "$tpid" -o "$img" --leave-running >"$out" 2>&1; then
		show_log "$out"
		die "crest dump -p $tpid failed"
	fi
	t1=$(now_ns)
	line2=$(grep '^frozen ' "$out") || {
		show_log "$out"
		die "crest dump printed no 'frozen ...' line"
	}
	R_FROZEN=$(sed -n 's/^frozen \([0-9.]*\) ms.*/\1/p' <<<"$line2")
	R_TOTAL=$(sed -n 's/.* total \([0-9.]*\) ms.*/\1/p' <<<"$line2")
	if [ -z "$R_FROZEN" ] || [ -z "$R_TOTAL" ]; then
		die "cannot read the times in: $line2"
	fi
	R_BYTES=$(stat -c %s "$img/crest.core")
	R_WALL=$(((t1 - t0) / 1000000))
	rm -rf -- "$img"
	img=""
	kill -0 "$tpid" 2>/dev/null || die "target $tpid is gone after a --leave-running dump"
}

# criu_once: the same with $CRIU; sets R_WALL (ms) and R_BYTES (the image
# files, without criu's log).
criu_once() {
	local t0 t1
	img=$(mktemp -d /dev/shm/crest-bench-XXXX)
	t0=$(now_ns)
	if ! timeout "$DUMP_TIMEOUT" "$CRIU" dump -t "$tpid" -D "$img" --shell-job --leave-running \
		-o dump.log >"$work/criu.out" 2>&1; then
		show_log "$work/criu.out"
		show_log "$img/dump.log"
		die "$CRIU dump -t $tpid failed"
	fi
	t1=$(now_ns)
	R_BYTES=$(find "$img" -type f ! -name '*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	R_WALL=$(((t1 - t0) / 1000000))
	rm -rf -- "$img"
	img=""
	kill -0 "$tpid" 2>/dev/null || die "target $tpid is gone after a criu --leave-running dump"
}

# ---- restore -------------------------------------------------------------

# proc_state PID: the state letter of PID (R, S, Z, ...), empty if gone.
proc_state() {
	local rest=""
	{ read -r rest <"/proc/$1/stat"; } 2>/dev/null || true
	rest=${rest##*) }
	printf '%s' "${rest%% *}"
}

# reap_killed: the target (tpid) was killed by someone else (a dump):
# wait until it is dead, reap it, clear tpid and wait until its PID is free.
# Run with stderr to /dev/null together with the command that killed it, or
# bash reports "Killed" for its job.  Returns 1 if it is still alive.
reap_killed() {
	local i
	for ((i = 0; i < GONE_TIMEOUT * 20; i++)); do
		case $(proc_state "$tpid") in
		"" | Z | X)
			wait "$tpid" || true
			tpid=""
			return 0
			;;
		esac
		sleep 0.05
	done
	return 1
}

# crest_kill_dump: dump the target without --leave-running, which kills it;
# reap it and wait until its PID is free.  Keeps the image in $img.
crest_kill_dump() {
	local out=$work/crest.out pid=$tpid st=0 reaped=0
	img=$(mktemp -d /dev/shm/crest-bench-XXXX)
	{
		timeout "$DUMP_TIMEOUT" "$CREST" dump -p "$tpid" -o "$img" >"$out" 2>&1 || st=$?
		if ((st == 0)) && reap_killed; then reaped=1; fi
	} 2>/dev/null
	if ((st != 0)); then
		show_log "$out"
		die "crest dump -p $pid (default mode, for restore) failed with status $st"
	fi
	((reaped)) || die "pid $pid still runs ${GONE_TIMEOUT}s after a default-mode crest dump"
	wait_gone "$pid"
}

# criu_kill_dump: the same with $CRIU.
criu_kill_dump() {
	local pid=$tpid st=0 reaped=0
	img=$(mktemp -d /dev/shm/crest-bench-XXXX)
	{
		timeout "$DUMP_TIMEOUT" "$CRIU" dump -t "$tpid" -D "$img" --shell-job \
			-o dump.log >"$work/criu.out" 2>&1 || st=$?
		if ((st == 0)) && reap_killed; then reaped=1; fi
	} 2>/dev/null
	if ((st != 0)); then
		show_log "$work/criu.out"
		show_log "$img/dump.log"
		die "$CRIU dump -t $pid (for restore) failed with status $st"
	fi
	((reaped)) || die "pid $pid still runs ${GONE_TIMEOUT}s after $CRIU dump"
	wait_gone "$pid"
}

# The line crest restore prints on success, e.g.
#   crest: restored pid 28590: 1 threads, 25 mappings, 1024.1 MiB of pages in 378.8 ms (memory 237.3 ms)
RESTORED_RE='restored pid ([0-9]+): .* ([0-9.]+) MiB of pages in ([0-9.]+) ms \(memory ([0-9.]+) ms\)'

# crest_restore_once PID: restore $img (the image of PID) with crest in the
# background, wait for its "restored pid" line, kill the restored process
# and wait for crest to exit and the PID to be free.  Sets R_TOTAL and
# R_MEM (ms, crest's own figures) and R_MIB (MiB of pages restored).
crest_restore_once() {
	local want=$1 err=$work/restore.err line="" i st state
	: >"$err"
	"$CREST" restore -i "$img" </dev/null >"$work/restore.out" 2>"$err" &
	cpid=$!
	for ((i = 0; i < RESTORE_TIMEOUT * 20; i++)); do
		if [ -s "$err" ] && line=$(grep -m 1 'restored pid' "$err"); then
			break
		fi
		if ! kill -0 "$cpid" 2>/dev/null; then
			line=$(grep -m 1 'restored pid' "$err") && break
			st=0
			wait "$cpid" || st=$?
			cpid=""
			show_log "$err"
			die "crest restore -i $img exited with status $st before it printed 'restored pid'"
		fi
		sleep 0.05
	done
	if [ -z "$line" ]; then
		show_log "$err"
		die "crest restore -i $img printed no 'restored pid' line within ${RESTORE_TIMEOUT}s"
	fi
	[[ $line =~ $RESTORED_RE ]] || die "cannot read the restore line: $line"
	rpid=${BASH_REMATCH[1]}
	R_MIB=${BASH_REMATCH[2]}
	R_TOTAL=${BASH_REMATCH[3]}
	R_MEM=${BASH_REMATCH[4]}
	((rpid == want)) || die "crest restored pid $rpid, the image was of pid $want: $line"
	# It must be running (not a zombie) when crest says it is restored.
	state=$(proc_state "$rpid")
	case $state in
	"" | Z | X)
		show_log "$err"
		die "restored pid $rpid is not running right after 'restored pid' (state '${state:-gone}')"
		;;
	esac
	kill -KILL "$rpid"
	st=0
	wait "$cpid" || st=$?
	cpid=""
	if ((st != 128 + 9)); then
		show_log "$err"
		die "crest restore exited with status $st after pid $rpid was sent SIGKILL (expected 137)"
	fi
	wait_gone "$rpid"
	rpid=""
}

# criu_restore_once PID: restore $img with criu restore -d (it returns once
# the process runs; the process then belongs to init), kill it and wait
# until it is gone.  Sets R_WALL (ms, the criu command).
criu_restore_once() {
	local want=$1 t0 t1
	t0=$(now_ns)
	if ! timeout "$DUMP_TIMEOUT" "$CRIU" restore -D "$img" --shell-job -d \
		-o restore.log >"$work/criu.out" 2>&1; then
		show_log "$work/criu.out"
		show_log "$img/restore.log"
		die "$CRIU restore -D $img failed"
	fi
	t1=$(now_ns)
	R_WALL=$(((t1 - t0) / 1000000))
	kill -0 "$want" 2>/dev/null || die "pid $want is not running after $CRIU restore -d"
	kill -KILL "$want"
	wait_gone "$want"
}

RESTORE_ROWS=""

# restore_case LABEL RUNS BIGMEM-ARGS...: with the target of the case still
# running (tpid), dump it in default mode, restore the image RUNS times,
# then (if CRIU is set) do the same with criu on a fresh target; append one
# row to RESTORE_ROWS.
restore_case() {
	local label=$1 runs=$2 i pid
	shift 2
	local -a totals=() mems=() criu_walls=()
	local cold_ms mib cold_criu="" criu_bytes=0 criu_cols

	pid=$tpid
	crest_kill_dump
	for ((i = 0; i < runs; i++)); do
		crest_restore_once "$pid"
		if ((i == 0)); then
			cold_ms=$R_TOTAL
			mib=$R_MIB
		else
			totals+=("$R_TOTAL")
			mems+=("$R_MEM")
		fi
	done
	rm -rf -- "$img"
	img=""

	if [ -n "$CRIU" ]; then
		start_target "$@"
		pid=$tpid
		criu_kill_dump
		criu_bytes=$(find "$img" -type f ! -name '*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
		for ((i = 0; i < runs; i++)); do
			criu_restore_once "$pid"
			if ((i == 0)); then
				cold_criu=$R_WALL
			else
				criu_walls+=("$R_WALL")
			fi
		done
		rm -rf -- "$img"
		img=""
		local cmed
		cmed=$(median "${criu_walls[@]}")
		criu_cols=$(printf '%8.0f %8.0f %8s' "$cold_criu" "$cmed" "$(gibps "$criu_bytes" "$cmed")")
	else
		criu_cols=$(printf '%8s %8s %8s' - - -)
	fi

	local med bytes row
	med=$(median "${totals[@]}")
	bytes=$(awk -v m="$mib" 'BEGIN { printf "%.0f", m * 1048576 }')
	row=$(printf '%-14s %8.1f %8.1f %8.1f %11s %6.2f %8.1f %8.1f | %s' \
		"$label" "$mib" "$cold_ms" "$med" "$(minmax "${totals[@]}")" "$(gibps "$bytes" "$med")" \
		"$(median "${mems[@]}")" "$med" "$criu_cols")
	RESTORE_ROWS+=$row$'\n'
}

# ---- one case ------------------------------------------------------------

TMPFS_GIBPS=""

# bench_case LABEL RUNS RESTORE BIGMEM-ARGS...: start the target, dump it
# RUNS times with crest (and with criu if set), print one table row; then,
# if RESTORE is "restore", measure restores of it (restore_case).
bench_case() {
	local label=$1 runs=$2 restore=$3 i
	shift 3
	local -a totals=() frozens=() walls=() criu_walls=()
	local cold_ms bytes cold_criu="" criu_bytes=0

	start_target "$@"
	for ((i = 0; i < runs; i++)); do
		crest_once
		if ((i == 0)); then
			cold_ms=$R_TOTAL
			bytes=$R_BYTES
		else
			totals+=("$R_TOTAL")
			frozens+=("$R_FROZEN")
			walls+=("$R_WALL")
		fi
	done
	if [ -n "$CRIU" ]; then
		for ((i = 0; i < runs; i++)); do
			criu_once
			if ((i == 0)); then
				cold_criu=$R_WALL
				criu_bytes=$R_BYTES
			else
				criu_walls+=("$R_WALL")
			fi
		done
	fi

	local med fro wall rate ratio criu_cols
	med=$(median "${totals[@]}")
	fro=$(median "${frozens[@]}")
	wall=$(median "${walls[@]}")
	rate=$(gibps "$bytes" "$med")
	ratio=$(awk -v r="$rate" -v t="$TMPFS_GIBPS" 'BEGIN { if (t > 0) printf "%.2f", r / t; else print "-" }')
	if [ -n "$CRIU" ]; then
		local cmed
		cmed=$(median "${criu_walls[@]}")
		criu_cols=$(printf '%8.0f %8.0f %8s %6.0f' "$cold_criu" "$cmed" "$(gibps "$criu_bytes" "$cmed")" \
			"$(awk -v b="$criu_bytes" 'BEGIN { print b / 1048576 }')")
	else
		criu_cols=$(printf '%8s %8s %8s %6s' - - - -)
	fi
	printf '%-14s %8.1f %8.1f %8.1f %11s %6.2f %7s %8.1f %7.0f | %s\n' \
		"$label" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$cold_ms" "$med" \
		"$(minmax "${totals[@]}")" "$rate" "$ratio" "$fro" "$wall" "$criu_cols"

	if [ "$restore" = restore ]; then
		restore_case "$label" "$runs" "$@"
	else
		stop_target
	fi
}

# ---- run -----------------------------------------------------------------

printf 'crest bench: %s, kernel %s, %s CPUs, %s MiB RAM\n' "$("$CREST" version 2>/dev/null | head -n 1)" \
	"$(uname -r)" "$(nproc)" "$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)"
printf 'measuring limits (memcpy, tmpfs write, process_vm_readv) ...\n'
if ! "$BENCHBIN/limits" >"$work/limits.out" 2>"$work/limits.err"; then
	show_log "$work/limits.err"
	die "$BENCHBIN/limits failed"
fi
limit() { awk -v k="$1" '$1 == k { print $2 }' "$work/limits.out"; }
MEMCPY_GIBPS=$(limit memcpy)
TMPFS_GIBPS=$(limit tmpfs_write)
VMREADV_GIBPS=$(limit process_vm_readv)
if [ -z "$MEMCPY_GIBPS" ] || [ -z "$TMPFS_GIBPS" ] || [ -z "$VMREADV_GIBPS" ]; then
	die "limits printed: $(cat "$work/limits.out")"
fi

printf '\n'
printf '%-14s %8s %8s %8s %11s %6s %7s %8s %7s | %8s %8s %8s %6s\n' \
	case "image" "cold" "median" "range" "GiB/s" "x tmpfs" "frozen" "wall" "criu" "criu" "criu" "criu"
printf '%-14s %8s %8s %8s %11s %6s %7s %8s %7s | %8s %8s %8s %6s\n' \
	"" "MiB" "ms" "total ms" "ms" "" "write" "ms" "ms" "cold ms" "med ms" "GiB/s" "MiB"
bench_case "64 MiB" "$RUNS" restore 64
bench_case "1 GiB" "$RUNS" restore 1024
bench_case "4 GiB" "$RUNS_4G" restore 4096
bench_case "sparse 16M+4G" "$RUNS" norestore 16 sparse

printf '\n'
printf '%-14s %8s %8s %8s %11s %6s %8s %8s | %8s %8s %8s\n' \
	restore "pages" "cold" "median" "range" "GiB/s" "memory" "to first" "criu" "criu" "criu"
printf '%-14s %8s %8s %8s %11s %6s %8s %8s | %8s %8s %8s\n' \
	"" "MiB" "ms" "total ms" "ms" "" "ms" "instr ms" "cold ms" "med ms" "GiB/s"
printf '%s' "$RESTORE_ROWS"

cat <<EOF

columns: image = crest.core size; cold = the first dump's total; median/range
  = crest's "total" over the later dumps ($((RUNS - 1)) for 64 MiB, 1 GiB, sparse; $((RUNS_4G - 1)) for
  4 GiB); GiB/s = image / median total; x tmpfs = GiB/s / tmpfs write limit;
  frozen = median time the target was stopped; wall = median time of the
  whole crest command; criu times are wall clock of the criu command.
sparse 16M+4G: bigmem 16 sparse (16 MiB touched, plus a 4 GiB mapping with
  10 MiB of it touched).
restore: one image per size from a dump that killed the target, restored
  $RUNS times ($RUNS_4G for 4 GiB) with \`crest restore -i DIR\`, the process killed after each;
  pages = MiB of pages restored; cold = the first restore's total;
  median/range = crest's restore "total" (opening the image until the
  process runs its first instruction again) over the later restores;
  GiB/s = pages / median total; memory = median time writing the pages;
  to first instr = the same median total, i.e. the time until the restored
  process runs again; criu times are wall clock of criu restore -d.

limits (this machine, this run; median of 5 on 1 GiB after a warm-up):
  memcpy            $(printf '%6.2f' "$MEMCPY_GIBPS") GiB/s   (into touched memory)
  tmpfs write       $(printf '%6.2f' "$TMPFS_GIBPS") GiB/s   (write() 4 MiB chunks to a new /dev/shm file)
  process_vm_readv  $(printf '%6.2f' "$VMREADV_GIBPS") GiB/s   (from a child into a touched buffer)
aim: >= 0.8 x tmpfs write bandwidth; CRIU 4.2 measured ~0.45 GiB/s on 1 GiB
aim: restore 1 GiB in < 0.4 s; CRIU 4.2 restores 1 GiB in ~3.8 s
EOF
if [ -n "$CRIU" ]; then
	printf 'CRIU: %s (%s)\n' "$CRIU" "$("$CRIU" --version 2>/dev/null | head -n 1 || true)"
else
	printf 'CRIU: not set (set CRIU=/path/to/criu to compare)\n'
fi

printf '\n'
CREST=$CREST CRESTD=${CRESTD:-$(dirname "$CREST")/crestd} TARGETS=$TARGETS BENCHBIN=$BENCHBIN \
	"$(dirname "$0")/crestd_latency.sh" 4096
