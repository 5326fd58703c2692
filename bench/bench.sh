#!/usr/bin/env bash
# crest bench: dump throughput and frozen time beside this machine's limits.
#
# For 64 MiB, 1 GiB and 4 GiB of touched memory (build/targets/bigmem) and a
# sparse 4 GiB mapping, dumps the running target several times with
# --leave-running into /dev/shm and prints one table row per case.  The
# first dump of each case is shown apart as "cold" (first use of the image
# pages, caches); the other columns are medians of the later dumps.
# Throughput is image bytes / crest's own "total" time.  Below the table:
# this machine's limits, measured in the same run by build/bench/limits.
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
#            criu dump -t PID -D DIR --shell-job --leave-running   [unset]
#   RUNS     dumps per case, the cold one included, for 64 MiB, 1 GiB and
#            the sparse case                       [5]
#   RUNS_4G  the same for 4 GiB                    [3]
#
# Memory: at most one target and one image exist at a time (4 GiB + 4 GiB
# at the largest), plus ~4 GiB while the limits are measured first.
set -euo pipefail

cd "$(dirname "$0")/.."

CREST=${CREST:-build/crest}
TARGETS=${TARGETS:-build/targets}
BENCHBIN=${BENCHBIN:-build/bench}
CRIU=${CRIU:-}
RUNS=${RUNS:-5}
RUNS_4G=${RUNS_4G:-3}

READY_TIMEOUT=300 # seconds for a target to touch its memory (slow in some VMs)
DUMP_TIMEOUT=300  # seconds any single dump may take

work=""  # logs
tpid=""  # the running target
img=""   # the image directory being written

cleanup() {
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

# ---- one case ------------------------------------------------------------

TMPFS_GIBPS=""

# bench_case LABEL RUNS BIGMEM-ARGS...: start the target, dump it RUNS
# times with crest (and with criu if set), print one table row.
bench_case() {
	local label=$1 runs=$2 i
	shift 2
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
	stop_target

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
bench_case "64 MiB" "$RUNS" 64
bench_case "1 GiB" "$RUNS" 1024
bench_case "4 GiB" "$RUNS_4G" 4096
bench_case "sparse 16M+4G" "$RUNS" 16 sparse

cat <<EOF

columns: image = crest.core size; cold = the first dump's total; median/range
  = crest's "total" over the later dumps ($((RUNS - 1)) for 64 MiB, 1 GiB, sparse; $((RUNS_4G - 1)) for
  4 GiB); GiB/s = image / median total; x tmpfs = GiB/s / tmpfs write limit;
  frozen = median time the target was stopped; wall = median time of the
  whole crest command; criu times are wall clock of the criu command.
sparse 16M+4G: bigmem 16 sparse (16 MiB touched, plus a 4 GiB mapping with
  10 MiB of it touched).

limits (this machine, this run; median of 5 on 1 GiB after a warm-up):
  memcpy            $(printf '%6.2f' "$MEMCPY_GIBPS") GiB/s   (into touched memory)
  tmpfs write       $(printf '%6.2f' "$TMPFS_GIBPS") GiB/s   (write() 4 MiB chunks to a new /dev/shm file)
  process_vm_readv  $(printf '%6.2f' "$VMREADV_GIBPS") GiB/s   (from a child into a touched buffer)
aim: >= 0.8 x tmpfs write bandwidth; CRIU 4.2 measured ~0.45 GiB/s on 1 GiB
EOF
if [ -n "$CRIU" ]; then
	printf 'CRIU: %s (%s)\n' "$CRIU" "$("$CRIU" --version 2>/dev/null | head -n 1 || true)"
else
	printf 'CRIU: not set (set CRIU=/path/to/criu to compare)\n'
fi
