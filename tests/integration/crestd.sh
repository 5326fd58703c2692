#!/usr/bin/env bash
# Integration tests: crestd, the supervisor, and the crest commands that
# talk to it (docs/protocol.md, docs/config.md).
#
#   CREST=build/crest CRESTD=build/crestd TARGETS=build/targets \
#       tests/integration/crestd.sh [CASE...]
#
# The same harness as run.sh: each test case is a function t_NAME, run in a
# subshell of its own; it fails by calling `fail REASON`, which ends the
# subshell.  Every crestd a case starts, and every component pid it sees,
# is recorded and killed when the case ends (crestd is stopped first, then
# its whole process tree is killed).  The last line of output is
# "N passed, M failed"; the exit status is non-zero if anything failed.  A
# case that cannot run here (missing tool or capability) fails and says why.
set -u

# Components orphaned by a crestd that a case kills with SIGKILL must be
# reaped by someone, and the init of some containers never reaps orphans:
# their zombies would keep their PIDs (which a later restore needs).  So
# the runner makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER,
# kept across exec); bash reaps whatever children it is given.
if [ -z "${CRESTD_IT_SUBREAPER:-}" ]; then
	export CRESTD_IT_SUBREAPER=1
	py=/usr/bin/python3
	[ -x "$py" ] || py=$(command -v python3)
	if [ -n "$py" ]; then
		exec "$py" -c '
import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
os.execv(sys.argv[1], sys.argv[1:])
' "$BASH" "$0" "$@"
	fi
fi

: "${CREST:?set CREST to the crest binary}"
: "${CRESTD:?set CRESTD to the crestd binary}"
: "${TARGETS:?set TARGETS to the directory of built test targets}"
CREST=$(realpath -- "$CREST") || exit 2
CRESTD=$(realpath -- "$CRESTD") || exit 2
TARGETS=$(realpath -- "$TARGETS") || exit 2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || PY=python3
CMD_TIMEOUT=30       # seconds any single crest run may take
START_TIMEOUT=5      # seconds for crestd to answer after it starts
NOBODY=65534

TMP=$(mktemp -d /tmp/crestd-it.XXXXXX) || exit 2

# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"
# Let an unprivileged client (bad_requests) reach a case's socket.
chmod 711 "$TMP"

# ---- cleanup -------------------------------------------------------------

# Field 22 of /proc/PID/stat (start time), empty if the process is gone.
pstart() {
	local st f
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	read -ra f <<<"$st"
	printf '%s' "${f[19]:-}"
}

# All descendants of the given PIDs, one a line.
descendants() {
	local p c kids
	for p in "$@"; do
		read -ra kids < <(cat /proc/"$p"/task/*/children 2>/dev/null | tr '\n' ' ')
		for c in "${kids[@]}"; do
			echo "$c"
			descendants "$c"
		done
	done
}

# Stop each recorded crestd, kill its process tree, then kill every other
# recorded process (components left by a crestd that died) -- each only if
# it is still the process that was recorded (same start time).
cleanup_case_dir() {
	local cdir=$1 p s kids
	if [ -f "$cdir/dpids" ]; then
		while read -r p s; do
			[ "$(pstart "$p")" = "$s" ] || continue
			kill -STOP "$p" 2>/dev/null
			mapfile -t kids < <(descendants "$p")
			[ "${#kids[@]}" -gt 0 ] && kill -KILL "${kids[@]}" 2>/dev/null
			kill -KILL "$p" 2>/dev/null
		done <"$cdir/dpids"
	fi
	if [ -f "$cdir/cpids" ]; then
		while read -r p s; do
			[ "$(pstart "$p")" = "$s" ] || continue
			mapfile -t kids < <(descendants "$p")
			[ "${#kids[@]}" -gt 0 ] && kill -KILL "${kids[@]}" 2>/dev/null
			kill -KILL "$p" 2>/dev/null
		done <"$cdir/cpids"
		mv -f "$cdir/cpids" "$cdir/cpids.done"
	fi
	if [ -f "$cdir/dpids" ]; then
		while read -r p s; do
			wait "$p" 2>/dev/null
		done <"$cdir/dpids"
		# Reaped: never kill these numbers again.
		mv -f "$cdir/dpids" "$cdir/dpids.done"
	fi
}

trap cleanup_all EXIT
trap 'exit 130' INT TERM

# ---- helpers used by the cases ------------------------------------------

# note TEXT: shown beside the case's PASS/FAIL line.
note() {
	printf '%s\n' "$*" >>"$CASE_DIR/note"
}

expect_alive() {
	local s
	s=$(pstate "$1")
	case $s in
	R | S | D) ;;
	'') fail "$2: process $1 is gone" ;;
	*) fail "$2: process $1 is in state $s, not running" ;;
	esac
}

# gone PID: no such process, or only a zombie.
gone() {
	case $(pstate "$1") in '' | Z) return 0 ;; *) return 1 ;; esac
}

# wait_gone PID WHAT: the process ends within 3 s.
wait_gone() {
	local i
	for ((i = 0; i < 60; i++)); do
		gone "$1" && return 0
		sleep 0.05
	done
	fail "$2: process $1 is still there (state $(pstate "$1"))"
}

# track PID FILE: record a process for cleanup (with its start time).
track() {
	local s
	s=$(pstart "$1")
	[ -n "$s" ] && echo "$1 $s" >>"$CASE_DIR/${2:-cpids}"
	return 0
}

# Wait up to 15 s for our child PID to end; its exit status goes to WSTATUS.
wait_exit() {
	local pid=$1 i
	for ((i = 0; i < 300; i++)); do
		gone "$pid" && break
		sleep 0.05
	done
	gone "$pid" || return 1
	wait "$pid"
	WSTATUS=$?
	return 0
}

# crest ARGS...: run crest against this case's crestd ($SOCK) with a time
# limit; stdout in $CASE_DIR/out, stderr in $CASE_DIR/err, status in RC.
crest() {
	local start=$SECONDS
	CREST_SOCKET=$SOCK timeout -k 5 "$CMD_TIMEOUT" "$CREST" "$@" >"$CASE_DIR/out" 2>"$CASE_DIR/err"
	RC=$?
	timed_out "$start" "crest $*"
}

# crestd_info: how this case's crestd is doing, for failure messages.
crestd_info() {
	local s
	[ -n "${DPID:-}" ] || return 0
	s=$(pstate "$DPID")
	case $s in
	'') s="is gone" ;;
	Z) s="has exited" ;;
	*) s="is in state $s" ;;
	esac
	printf 'crestd %s %s; its stderr: %s' "$DPID" "$s" "$(excerpt "$CASE_DIR/crestd.err" 3)"
}

# crest_ok ARGS...: crest must succeed.
crest_ok() {
	crest "$@"
	[ "$RC" -eq 0 ] || fail "crest $* exited $RC: $(excerpt "$CASE_DIR/err"); $(crestd_info)"
}

# crest_err CODE ARGS...: crest must fail with "crest: MESSAGE (CODE)".
crest_err() {
	local code=$1
	shift
	crest "$@"
	[ "$RC" -eq 1 ] || fail "crest $* exited $RC, expected 1 ($code): $(excerpt "$CASE_DIR/out") $(excerpt "$CASE_DIR/err"); $(crestd_info)"
	grep -qE "^crest: .+ \($code\)\$" "$CASE_DIR/err" ||
		fail "crest $*: stderr is not 'crest: MESSAGE ($code)': $(excerpt "$CASE_DIR/err")"
}

# jval FILE EXPR: print EXPR evaluated with `j` = the JSON in FILE (booleans
# as true/false); on error print why and return 1.  Use as
# v=$(jval ...) || fail "$v".
JVAL_PY='
import json, sys
try:
    with open(sys.argv[1]) as f:
        j = json.load(f)
except Exception as e:
    print("not JSON (%s): %r" % (e, open(sys.argv[1], errors="replace").read()[:300]))
    sys.exit(1)
try:
    v = eval(sys.argv[2], {"j": j})
except Exception as e:
    print("%s in %s: %s; JSON: %s" % (type(e).__name__, sys.argv[2], e, json.dumps(j)[:400]))
    sys.exit(1)
print(str(v).lower() if isinstance(v, bool) else v)
'
jval() {
	"$PY" -c "$JVAL_PY" "$@" 2>&1
}

# jcheck CODE FILE [ARGS...]: run python CODE with `j` = the JSON in FILE
# and `A` = ARGS; an assert that fails ends the case with its message.
JCHECK_PY='
import json, sys
try:
    with open(sys.argv[2]) as f:
        j = json.load(f)
except Exception as e:
    print("not JSON: %s" % e)
    sys.exit(1)
try:
    exec(sys.argv[1], {"j": j, "A": sys.argv[3:]})
except AssertionError as e:
    print("JSON check failed: %s; JSON: %s" % (e, json.dumps(j)[:500]))
    sys.exit(1)
except Exception as e:
    print("JSON check failed: %s: %s; JSON: %s" % (type(e).__name__, e, json.dumps(j)[:500]))
    sys.exit(1)
'
jcheck() {
	local code=$1 file=$2 msg
	shift 2
	msg=$("$PY" -c "$JCHECK_PY" "$code" "$file" "$@" 2>&1) || fail "$msg"
}

# cstatus LABEL: `crest status LABEL`; sets ST_STATE, ST_PID, ST_RESTARTS,
# ST_BUSY and records the pid for cleanup.
cstatus() {
	local line
	crest_ok status "$1"
	line=$(jval "$CASE_DIR/out" '"%s %d %d %s" % (j["component"]["state"], j["component"]["pid"], j["component"]["restarts"], str(j["component"]["busy"]).lower()) if j["ok"] is True and j["component"]["label"] == "'"$1"'" else "BAD"') ||
		fail "crest status $1: $line"
	[ "$line" != BAD ] || fail "crest status $1: not an ok reply for $1: $(excerpt "$CASE_DIR/out" 12)"
	read -r ST_STATE ST_PID ST_RESTARTS ST_BUSY <<<"$line"
	[ "$ST_PID" -gt 0 ] && track "$ST_PID"
	return 0
}

# wait_status LABEL STATE [MIN_RESTARTS [SECONDS]]: poll `crest status`
# until LABEL is in STATE (and not busy, with at least MIN_RESTARTS).
wait_status() {
	local label=$1 want=$2 minr=${3:-0} secs=${4:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		cstatus "$label"
		[ "$ST_STATE" = "$want" ] && [ "$ST_BUSY" = false ] && [ "$ST_RESTARTS" -ge "$minr" ] && return 0
		sleep 0.05
	done
	fail "$label not $want (restarts >= $minr) after ${secs}s: state $ST_STATE pid $ST_PID restarts $ST_RESTARTS busy $ST_BUSY; crestd: $(excerpt "$CASE_DIR/crestd.err" 3)"
}

# logseq FILE [MARKER]: the counter's lines in a log (`crest logs` output):
# every line is "YYYY-MM-DDTHH:MM:SS.mmmZ ...", and the n= values (after
# the last line containing MARKER, or after the first N lines if MARKER is
# @N) go up by exactly one.  Prints "FIRST LAST COUNT".
LOGSEQ_PY='
import re, sys
TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
with open(sys.argv[1], errors="replace") as f:
    lines = f.read().splitlines()
for l in lines:
    if not re.match(TS + " ", l):
        print("log line without a timestamp: %r" % l)
        sys.exit(1)
m = sys.argv[2] if len(sys.argv) > 2 else ""
if m.startswith("@"):
    lines = lines[int(m[1:]):]
elif m:
    at = [i for i, l in enumerate(lines) if m in l]
    if not at:
        print("no log line contains %r" % m)
        sys.exit(1)
    lines = lines[at[-1] + 1:]
vals = []
for l in lines:
    x = re.fullmatch(TS + r" n=(\d+)", l)
    if x:
        vals.append((int(x.group(1)), l))
if not vals:
    print("no n= lines%s" % (" after %r" % m if m else ""))
    sys.exit(1)
for (a, la), (b, lb) in zip(vals, vals[1:]):
    if b != a + 1:
        print("n=%d follows n=%d (%s): %r then %r" % (b, a, "a repeat" if b <= a else "a gap", la, lb))
        sys.exit(1)
print(vals[0][0], vals[-1][0], len(vals))
'
# logseq_ok FILE [MARKER]: as logseq; sets LOG_FIRST, LOG_LAST, LOG_COUNT.
logseq_ok() {
	local r
	r=$("$PY" -c "$LOGSEQ_PY" "$@" 2>&1) || fail "log of the counter: $r"
	read -r LOG_FIRST LOG_LAST LOG_COUNT <<<"$r"
}

# clog LABEL FILE: `crest logs LABEL` into FILE.
clog() {
	crest_ok logs "$1"
	cp "$CASE_DIR/out" "$2"
}

# wait_n LABEL MIN [MARKER]: the counter LABEL has logged n=MIN (after
# MARKER, as in logseq) within 5 s; sets LOG_* for that part of the log.
wait_n() {
	local i r=
	for ((i = 0; i < 100; i++)); do
		clog "$1" "$CASE_DIR/log.$1"
		if r=$("$PY" -c "$LOGSEQ_PY" "$CASE_DIR/log.$1" "${@:3}" 2>&1); then
			read -r LOG_FIRST LOG_LAST LOG_COUNT <<<"$r"
			[ "$LOG_LAST" -ge "$2" ] && return 0
		fi
		sleep 0.05
	done
	fail "$1 has not logged n=$2 after 5s ($r): $(excerpt "$CASE_DIR/log.$1")"
}

# ckpt_ids LABEL: `crest checkpoints LABEL`, the ids in CK_IDS ("1 2 3"),
# the reply in $CASE_DIR/ckpts.
ckpt_ids() {
	crest_ok checkpoints "$1"
	cp "$CASE_DIR/out" "$CASE_DIR/ckpts"
	CK_IDS=$(jval "$CASE_DIR/ckpts" '" ".join(str(c["id"]) for c in j["checkpoints"]) if j["ok"] is True else "BAD"') ||
		fail "crest checkpoints $1: $CK_IDS"
	[ "$CK_IDS" != BAD ] || fail "crest checkpoints $1: not an ok reply: $(excerpt "$CASE_DIR/ckpts" 8)"
}

# ckpt_ok LABEL ID PID [--leave-running]: `crest checkpoint` must make
# checkpoint ID of PID, complete in the store.
ckpt_ok() {
	local label=$1 id=$2 pid=$3
	shift 3
	crest_ok checkpoint "$label" "$@"
	grep -q "^checkpoint $id of $label (pid $pid): frozen [0-9.]* ms, [1-9][0-9]* bytes" "$CASE_DIR/out" ||
		fail "crest checkpoint $label $*: expected checkpoint $id of pid $pid: $(excerpt "$CASE_DIR/out")"
	[ -s "$STORE/$label/$id/crest.core" ] || fail "checkpoint $id: $STORE/$label/$id/crest.core missing or empty"
	[ -s "$STORE/$label/$id/meta.json" ] || fail "checkpoint $id: $STORE/$label/$id/meta.json missing or empty"
}

# conf_head [LINES...]: the [crestd] section for this case's store and
# socket, then LINES.
conf_head() {
	printf '[crestd]\nstore = %s\nsocket = %s\n' "$STORE" "$SOCK"
	[ $# -gt 0 ] && printf '%s\n' "$@"
	return 0
}

# start_crestd CONFIG [ARGS...]: start crestd with fds above 2 closed,
# stdout and stderr appended to $CASE_DIR/crestd.out and crestd.err; sets
# DPID and records it; waits until `crest ps` answers on $SOCK.
start_crestd() {
	local conf=$1 i
	shift
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
		done
		exec "$CRESTD" -c "$conf" "$@"
	) </dev/null >>"$CASE_DIR/crestd.out" 2>>"$CASE_DIR/crestd.err" &
	DPID=$!
	track "$DPID" dpids
	for ((i = 0; i < START_TIMEOUT * 20; i++)); do
		if [ -S "$SOCK" ]; then
			crest ps
			[ "$RC" -eq 0 ] && return 0
		fi
		gone "$DPID" && fail "crestd exited at start-up: $(excerpt "$CASE_DIR/crestd.err")"
		sleep 0.05
	done
	fail "crestd does not answer on $SOCK after ${START_TIMEOUT}s: $(excerpt "$CASE_DIR/err") crestd: $(excerpt "$CASE_DIR/crestd.err")"
}

# run_crestd CONFIG: run crestd to its end (at most 5 s, fds above 2
# closed); stderr in $CASE_DIR/crestd.err, status in RC.
run_crestd() {
	local conf=$1
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
		done
		exec timeout -k 2 5 "$CRESTD" -c "$conf"
	) </dev/null >"$CASE_DIR/crestd.out" 2>"$CASE_DIR/crestd.err"
	RC=$?
}

# Raw protocol client: raw.py SOCKET PAYLOAD prints crestd's one reply.
# PAYLOAD "@big" is a 70 KiB request.  Exit 2 if there is no reply.
RAW_PY='
import socket, sys
path, payload = sys.argv[1], sys.argv[2]
if payload == "@big":
    data = b"{\"cmd\":\"list\",\"pad\":\"" + b"x" * (70 * 1024) + b"\"}"
else:
    data = payload.encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
try:
    s.connect(path)
    s.send(data)
    r = s.recv(1 << 17)
except OSError as e:
    print("client error: %s" % e)
    sys.exit(2)
if not r:
    print("crestd closed the connection without answering")
    sys.exit(2)
print(r.decode(errors="replace"))
'
printf '%s' "$RAW_PY" >"$TMP/raw.py"
chmod 644 "$TMP/raw.py"

# raw_expect CODE WHAT PAYLOAD [PREFIX...]: send PAYLOAD on a connection of
# its own (run under PREFIX, e.g. setpriv); the reply must be an error with
# CODE and a message; crestd must still answer `crest ps` afterwards.
raw_expect() {
	local code=$1 what=$2 payload=$3 got start=$SECONDS
	shift 3
	timeout -k 5 "$CMD_TIMEOUT" "$@" "$PY" "$TMP/raw.py" "$SOCK" "$payload" >"$CASE_DIR/raw" 2>"$CASE_DIR/raw.err"
	RC=$?
	timed_out "$start" "$what"
	grep -q 'setpriv:' "$CASE_DIR/raw.err" && fail "cannot run: $(excerpt "$CASE_DIR/raw.err")"
	[ "$RC" -eq 0 ] || fail "$what: no reply (status $RC): $(excerpt "$CASE_DIR/raw") $(excerpt "$CASE_DIR/raw.err")"
	got=$(jval "$CASE_DIR/raw" 'j["error"]["code"] if j.get("ok") is False and isinstance(j.get("error"), dict) and j["error"].get("message") else "not an error reply with a code and a message"') ||
		fail "$what: $got"
	[ "$got" = "$code" ] || fail "$what: expected error $code, got: $got: $(excerpt "$CASE_DIR/raw")"
	crest ps
	[ "$RC" -eq 0 ] || fail "after $what, crestd no longer answers crest ps: $(excerpt "$CASE_DIR/err") crestd: $(excerpt "$CASE_DIR/crestd.err")"
}

# listdir DIR: the names in DIR on one line.
listdir() {
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f ' 2>&1
}

# mode_is PATH MODE
mode_is() {
	local m
	m=$(stat -c %a "$1" 2>&1) || fail "stat $1: $m"
	[ "$m" = "$2" ] || fail "$1 has mode $m, expected $2"
}

# The common case setup: a store and socket in the case directory.
setup() {
	chmod 711 "$CASE_DIR"
	STORE=$CASE_DIR/store
	SOCK=$CASE_DIR/crestd.sock
	CONF=$CASE_DIR/crestd.ini
}

# ---- test cases ------------------------------------------------------------

# The counter end to end: ps, logs, checkpoint (killed) and restore with the
# same pid and an unbroken log, --leave-running, keep, delete, modes.
t_e2e() {
	local pid nck
	setup
	conf_head '[component counter]' "command = $TARGETS/counter" 'keep = 2' >"$CONF"
	start_crestd "$CONF"
	wait_status counter running
	pid=$ST_PID
	crest_ok ps
	grep -qE "^counter +running +$pid +0\$" "$CASE_DIR/out" ||
		fail "crest ps does not show counter running as pid $pid: $(excerpt "$CASE_DIR/out")"
	wait_n counter 3
	grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z pid=$pid ready\$" "$CASE_DIR/log.counter" ||
		fail "crest logs counter has no timestamped 'pid=$pid ready': $(excerpt "$CASE_DIR/log.counter")"
	[ "$LOG_FIRST" = 0 ] || fail "the log starts at n=$LOG_FIRST, not n=0"

	# checkpoint: the component is killed, the checkpoint listed
	ckpt_ok counter 1 "$pid"
	cstatus counter
	[ "$ST_STATE" = checkpointed ] || fail "after crest checkpoint, counter is $ST_STATE, not checkpointed"
	wait_gone "$pid" "after a checkpoint without --leave-running"
	ckpt_ids counter
	[ "$CK_IDS" = 1 ] || fail "crest checkpoints counter lists ids '$CK_IDS', expected '1'"
	jcheck '
c = j["checkpoints"][0]
pid = int(A[0])
assert c["id"] == 1, "id %r" % c["id"]
assert c["pid"] == pid, "pid %r, expected %d" % (c["pid"], pid)
assert isinstance(c["bytes"], int) and c["bytes"] > 0, "bytes %r" % c["bytes"]
assert isinstance(c["frozen_ms"], (int, float)) and c["frozen_ms"] >= 0, "frozen_ms %r" % c["frozen_ms"]
' "$CASE_DIR/ckpts" "$pid"
	clog counter "$CASE_DIR/log.ck"
	logseq_ok "$CASE_DIR/log.ck"
	nck=$LOG_LAST

	# restore: the same pid, the log goes on from the next n
	crest_ok restore counter
	grep -q "^restored counter from checkpoint 1: pid $pid," "$CASE_DIR/out" ||
		fail "crest restore counter: expected checkpoint 1, pid $pid: $(excerpt "$CASE_DIR/out")"
	wait_status counter running
	[ "$ST_PID" = "$pid" ] || fail "restored counter has pid $ST_PID, expected $pid"
	expect_alive "$pid" "after restore"
	sleep 0.5
	clog counter "$CASE_DIR/log.r"
	logseq_ok "$CASE_DIR/log.r"
	[ "$LOG_LAST" -ge $((nck + 3)) ] ||
		fail "0.5 s after the restore the log is at n=$LOG_LAST (n=$nck at the checkpoint): $(excerpt "$CASE_DIR/log.r")"

	# --leave-running twice: ids 2 and 3; keep = 2 leaves only those
	ckpt_ok counter 2 "$pid" --leave-running
	ckpt_ok counter 3 "$pid" --leave-running
	wait_status counter running
	[ "$ST_PID" = "$pid" ] || fail "after --leave-running checkpoints, counter has pid $ST_PID, expected $pid"
	expect_alive "$pid" "after --leave-running checkpoints"
	ckpt_ids counter
	[ "$CK_IDS" = "2 3" ] || fail "with keep = 2, crest checkpoints lists ids '$CK_IDS', expected '2 3'"
	[ ! -e "$STORE/counter/1" ] || fail "checkpoint 1 is still in the store with keep = 2"
	jcheck '
for c in j["checkpoints"]:
    assert c["pid"] == int(A[0]), "checkpoint %r has pid %r" % (c["id"], c["pid"])
    assert c["bytes"] > 0, "checkpoint %r has %r bytes" % (c["id"], c["bytes"])
' "$CASE_DIR/ckpts" "$pid"

	# delete
	crest_ok delete counter 2
	ckpt_ids counter
	[ "$CK_IDS" = 3 ] || fail "after crest delete counter 2, crest checkpoints lists '$CK_IDS', expected '3'"
	[ ! -e "$STORE/counter/2" ] || fail "crest delete counter 2 left $STORE/counter/2"
	crest_err no_checkpoint delete counter 2
	crest_ok ps

	# modes
	mode_is "$STORE" 700
	mode_is "$STORE/counter" 700
	clog counter "$CASE_DIR/log.end"
	logseq_ok "$CASE_DIR/log.end"
	expect_alive "$pid" "at the end"
}

# A long checkpoint (512 MiB) runs while 10 clients send 20 list/status
# requests each; a second checkpoint of the same label is busy.
CONC_PY='
import json, socket, sys, threading, time
path, label, nclients, nreq = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = {"saw_busy": False, "second": None, "errors": [], "bad": [], "replies": 0,
       "busy_replies": 0, "max_list_ms": 0.0, "max_status_ms": 0.0}
lock = threading.Lock()

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(60)
    s.connect(path)
    return s

def ask(s, req):
    s.send(json.dumps(req).encode())
    r = s.recv(1 << 17)
    if not r:
        raise OSError("crestd closed the connection without answering")
    return json.loads(r)

# wait until the checkpoint the caller started has made the label busy
try:
    s = conn()
    end = time.monotonic() + 10
    while time.monotonic() < end:
        r = ask(s, {"cmd": "status", "label": label})
        if r.get("ok") is True and r["component"].get("busy") is True:
            out["saw_busy"] = True
            break
        time.sleep(0.002)
    s.close()
except Exception as e:
    out["errors"].append("polling status: %s" % e)

def second():
    try:
        c = conn()
        out["second"] = ask(c, {"cmd": "checkpoint", "label": label, "leave_running": True})
        c.close()
    except Exception as e:
        with lock:
            out["errors"].append("second checkpoint: %s" % e)

def client(i):
    try:
        c = conn()
    except Exception as e:
        with lock:
            out["errors"].append("client %d: connect: %s" % (i, e))
        return
    for k in range(nreq):
        cmd = "list" if k % 2 == 0 else "status"
        req = {"cmd": cmd} if cmd == "list" else {"cmd": cmd, "label": label}
        t0 = time.monotonic()
        try:
            r = ask(c, req)
        except Exception as e:
            with lock:
                out["errors"].append("client %d request %d (%s): %s" % (i, k, cmd, e))
            return
        ms = (time.monotonic() - t0) * 1000
        with lock:
            out["replies"] += 1
            key = "max_%s_ms" % cmd
            out[key] = max(out[key], ms)
            try:
                assert r.get("ok") is True
                comps = r["components"] if cmd == "list" else [r["component"]]
                mine = [x for x in comps if x["label"] == label]
                assert len(mine) == 1 and mine[0]["state"] == "running"
                if mine[0]["busy"] is True:
                    out["busy_replies"] += 1
            except Exception:
                out["bad"].append({"request": req, "reply": r})
    c.close()

if out["saw_busy"]:
    ts = [threading.Thread(target=second)]
    ts += [threading.Thread(target=client, args=(i,)) for i in range(nclients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
print(json.dumps(out))
'
t_concurrency() {
	local pid ck i n start
	setup
	conf_head '[component big]' "command = $TARGETS/bigmem 512" >"$CONF"
	start_crestd "$CONF"
	wait_status big running
	pid=$ST_PID
	for ((i = 0; i < 200; i++)); do
		clog big "$CASE_DIR/log.big"
		grep -q "pid=$pid ready" "$CASE_DIR/log.big" && break
		sleep 0.05
	done
	grep -q "pid=$pid ready" "$CASE_DIR/log.big" || fail "bigmem 512 not ready after 10s: $(excerpt "$CASE_DIR/log.big")"

	start=$SECONDS
	CREST_SOCKET=$SOCK timeout -k 5 "$CMD_TIMEOUT" "$CREST" checkpoint big --leave-running \
		>"$CASE_DIR/ck1.out" 2>"$CASE_DIR/ck1.err" &
	ck=$!
	track "$ck"
	timeout -k 5 60 "$PY" -c "$CONC_PY" "$SOCK" big 10 20 >"$CASE_DIR/conc" 2>"$CASE_DIR/conc.err" ||
		fail "the concurrent clients failed: $(excerpt "$CASE_DIR/conc.err")"
	wait "$ck"
	RC=$?
	timed_out "$start" "crest checkpoint big --leave-running"
	[ "$RC" -eq 0 ] || fail "crest checkpoint big --leave-running exited $RC: $(excerpt "$CASE_DIR/ck1.err")"
	grep -q "^checkpoint 1 of big (pid $pid)" "$CASE_DIR/ck1.out" ||
		fail "the first checkpoint is not checkpoint 1 of pid $pid: $(excerpt "$CASE_DIR/ck1.out")"

	jcheck '
assert j["saw_busy"], "the checkpoint never showed as busy in status (did it end before the clients started?)"
assert not j["errors"], "client errors: %s" % j["errors"][:3]
assert not j["bad"], "%d bad replies, e.g. %s" % (len(j["bad"]), j["bad"][:2])
assert j["replies"] == 200, "%d replies to 200 list/status requests" % j["replies"]
assert j["busy_replies"] > 0, "no reply showed big busy: the clients did not run during the checkpoint"
s = j["second"]
assert isinstance(s, dict), "no reply to the second checkpoint: %r" % s
assert s.get("ok") is True or s.get("error", {}).get("code") == "busy", "the second checkpoint failed other than with busy: %r" % s
' "$CASE_DIR/conc"
	n=$(jval "$CASE_DIR/conc" '"max list latency %.1f ms, max status latency %.1f ms, %d of 200 replies during the checkpoint, second checkpoint: %s" % (j["max_list_ms"], j["max_status_ms"], j["busy_replies"], "ok (the first had ended)" if j["second"].get("ok") else j["second"]["error"]["code"])') ||
		fail "$n"
	note "$n"
	echo "$n"

	wait_status big running
	[ "$ST_PID" = "$pid" ] || fail "after the checkpoints, big has pid $ST_PID, expected $pid"
	expect_alive "$pid" "after the checkpoints"
	ckpt_ids big
	case $CK_IDS in 1 | "1 2") ;; *) fail "crest checkpoints big lists '$CK_IDS', expected '1' (or '1 2')" ;; esac
	jcheck '
for c in j["checkpoints"]:
    assert c["pid"] == int(A[0]), "checkpoint %r has pid %r" % (c["id"], c["pid"])
    assert c["bytes"] >= 512 << 20, "checkpoint %r has only %r bytes for 512 MiB" % (c["id"], c["bytes"])
' "$CASE_DIR/ckpts" "$pid"
	crest_ok ps
	grep -qE "^big +running +$pid +0\$" "$CASE_DIR/out" || fail "crest ps after the checkpoints: $(excerpt "$CASE_DIR/out")"
}

# Bad requests each get an error reply, and crestd goes on serving.
t_bad_requests() {
	local pid
	need_root "to run a client as another user"
	need setpriv
	setup
	conf_head '[component counter]' "command = $TARGETS/counter" >"$CONF"
	start_crestd "$CONF"
	wait_status counter running
	pid=$ST_PID
	chmod 666 "$SOCK" || fail "cannot run: chmod 666 $SOCK failed"

	raw_expect bad_request "malformed JSON" '{"cmd": "list", '
	raw_expect bad_request "a JSON array" '["list"]'
	raw_expect bad_request "no cmd" '{"label": "counter"}'
	raw_expect too_large "a 70 KiB request" @big
	raw_expect unknown_label "an unknown label" '{"cmd": "status", "label": "nosuch"}'
	raw_expect bad_label "a label with /" '{"cmd": "status", "label": "counter/../counter"}'
	raw_expect bad_label "the label .." '{"cmd": "checkpoint", "label": ".."}'
	raw_expect unknown_command "an unknown command" '{"cmd": "frobnicate", "label": "counter"}'
	raw_expect permission_denied "stop as uid $NOBODY" '{"cmd": "stop", "label": "counter"}' \
		setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups
	raw_expect permission_denied "checkpoint as uid $NOBODY" '{"cmd": "checkpoint", "label": "counter"}' \
		setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups

	# the CLI's error format
	crest_err unknown_label status nosuch
	crest_err running start counter
	crest_err running restore counter

	wait_status counter running
	[ "$ST_PID" = "$pid" ] || fail "after the bad requests, counter has pid $ST_PID, expected $pid"
	expect_alive "$pid" "after the bad requests"
	ckpt_ids counter
	[ -z "$CK_IDS" ] || fail "the bad requests left checkpoints: '$CK_IDS'"
	crest_ok ps
	grep -qE "^counter +running +$pid +0\$" "$CASE_DIR/out" || fail "crest ps after the bad requests: $(excerpt "$CASE_DIR/out")"
}

# Configuration errors: "crestd: FILE:LINE: message", exit 1, nothing started.
t_bad_config() {
	local c
	setup
	c=$CASE_DIR/badline.ini
	conf_head '[component a]' 'restart = sometimes' "command = $TARGETS/counter" >"$c"
	run_crestd "$c"
	[ "$RC" -eq 1 ] || fail "restart = sometimes: crestd exited $RC, expected 1: $(excerpt "$CASE_DIR/crestd.err")"
	grep -qF "crestd: $c:5: " "$CASE_DIR/crestd.err" ||
		fail "restart = sometimes: stderr does not name $c:5: $(excerpt "$CASE_DIR/crestd.err")"
	grep -q sometimes "$CASE_DIR/crestd.err" || fail "restart = sometimes: the message does not quote the value: $(excerpt "$CASE_DIR/crestd.err")"
	[ ! -e "$SOCK" ] || fail "restart = sometimes: crestd created its socket anyway"

	c=$CASE_DIR/section.ini
	conf_head '[services]' "command = $TARGETS/counter" >"$c"
	run_crestd "$c"
	[ "$RC" -eq 1 ] || fail "[services]: crestd exited $RC, expected 1: $(excerpt "$CASE_DIR/crestd.err")"
	grep -qE "^crestd: $c:[45]: .*services" "$CASE_DIR/crestd.err" ||
		fail "[services]: stderr does not name $c:4 (or :5) and the section: $(excerpt "$CASE_DIR/crestd.err")"
	[ ! -e "$SOCK" ] || fail "[services]: crestd created its socket anyway"

	c=$CASE_DIR/slash.ini
	conf_head '[component a/b]' "command = $TARGETS/counter" >"$c"
	run_crestd "$c"
	[ "$RC" -eq 1 ] || fail "[component a/b]: crestd exited $RC, expected 1: $(excerpt "$CASE_DIR/crestd.err")"
	grep -qE "^crestd: $c:[45]: .*a/b" "$CASE_DIR/crestd.err" ||
		fail "[component a/b]: stderr does not name $c:4 (or :5) and the label: $(excerpt "$CASE_DIR/crestd.err")"
	[ ! -e "$SOCK" ] || fail "[component a/b]: crestd created its socket anyway"
	[ ! -e "$STORE/a" ] || fail "[component a/b]: crestd created $STORE/a"
}

# restart = on-failure: a component that exits 3 is started again.
t_restart_on_failure() {
	local r1
	setup
	conf_head '[component flaky]' "command = /bin/sh -c 'sleep 0.3; exit 3'" 'restart = on-failure' >"$CONF"
	start_crestd "$CONF"
	wait_status flaky running 1 3
	r1=$ST_RESTARTS
	wait_status flaky running $((r1 + 1)) 3
	clog flaky "$CASE_DIR/log.flaky"
	grep -qE '^[0-9TZ:.-]+ crestd: flaky exited \(status 3\)$' "$CASE_DIR/log.flaky" ||
		fail "the log of flaky does not say it exited with status 3: $(excerpt "$CASE_DIR/log.flaky")"
	note "restarts $r1 -> $ST_RESTARTS"
}

# restart = checkpoint: killed with SIGKILL, the counter comes back from its
# latest checkpoint, with the same pid, and its log goes on from there.
t_restart_checkpoint() {
	local pid nb na
	setup
	conf_head '[component phoenix]' "command = $TARGETS/counter" 'restart = checkpoint' >"$CONF"
	start_crestd "$CONF"
	wait_status phoenix running
	pid=$ST_PID
	wait_n phoenix 3
	nb=$LOG_LAST
	ckpt_ok phoenix 1 "$pid" --leave-running
	sleep 0.05
	clog phoenix "$CASE_DIR/log.a"
	logseq_ok "$CASE_DIR/log.a"
	na=$LOG_LAST
	sleep 0.3
	wait_status phoenix running
	[ "$ST_PID" = "$pid" ] || fail "after --leave-running, phoenix has pid $ST_PID, expected $pid"
	kill -KILL "$pid"
	wait_status phoenix running 1 5
	[ "$ST_PID" = "$pid" ] || fail "phoenix came back as pid $ST_PID, not $pid (the checkpoint's pid)"
	expect_alive "$pid" "after the restart from the checkpoint"
	sleep 0.5
	clog phoenix "$CASE_DIR/log.r"
	grep -q 'crestd: phoenix exited (signal 9)' "$CASE_DIR/log.r" ||
		fail "the log does not say phoenix was killed by signal 9: $(excerpt "$CASE_DIR/log.r")"
	logseq_ok "$CASE_DIR/log.r" 'crestd: phoenix exited (signal 9)'
	if [ "$LOG_FIRST" -lt $((nb + 1)) ] || [ "$LOG_FIRST" -gt $((na + 1)) ]; then
		fail "after the restart the log goes on at n=$LOG_FIRST; the checkpoint was taken between n=$nb and n=$na"
	fi
	[ "$LOG_COUNT" -ge 3 ] || fail "only $LOG_COUNT n= lines 0.5 s after the restart: $(excerpt "$CASE_DIR/log.r")"
	ckpt_ids phoenix
	[ "$CK_IDS" = 1 ] || fail "crest checkpoints phoenix lists '$CK_IDS', expected '1'"
}

# crestd killed with SIGKILL: a new crestd on the same store lists the
# checkpoints, starts the component again, and can restore them.
t_sigkill() {
	local pid d1 pid2 nl
	setup
	conf_head '[component counter]' "command = $TARGETS/counter" >"$CONF"
	start_crestd "$CONF"
	d1=$DPID
	wait_status counter running
	pid=$ST_PID
	wait_n counter 2
	ckpt_ok counter 1 "$pid" --leave-running
	ckpt_ok counter 2 "$pid" --leave-running
	kill -KILL "$d1"
	wait_exit "$d1" || fail "crestd $d1 still there after SIGKILL"
	# what the first crestd left running
	kill -KILL "$pid" 2>/dev/null
	wait_gone "$pid" "the first crestd's component"

	if [ ! -d "$STORE/counter/1" ] || [ ! -d "$STORE/counter/2" ]; then
		fail "checkpoints gone after crestd was killed: $(listdir "$STORE/counter")"
	fi
	[ -z "$(find "$STORE/counter" -maxdepth 1 -name '.tmp-*')" ] || fail "unfinished checkpoints left in $STORE/counter"

	start_crestd "$CONF"
	wait_status counter running
	pid2=$ST_PID
	ckpt_ids counter
	[ "$CK_IDS" = "1 2" ] || fail "the new crestd lists checkpoints '$CK_IDS', expected '1 2'"
	jcheck '
for c in j["checkpoints"]:
    assert c["pid"] == int(A[0]), "checkpoint %r has pid %r" % (c["id"], c["pid"])
' "$CASE_DIR/ckpts" "$pid"
	wait_n counter 1 "pid=$pid2 ready"
	[ "$LOG_FIRST" = 0 ] || fail "the new crestd's counter starts at n=$LOG_FIRST, not at n=0"

	# the surviving checkpoints can be restored
	crest_ok stop counter
	wait_status counter stopped
	wait_gone "$pid2" "after crest stop"
	sleep 0.2
	clog counter "$CASE_DIR/log.s"
	nl=$(wc -l <"$CASE_DIR/log.s")
	crest_ok restore counter
	grep -q "^restored counter from checkpoint 2: pid $pid," "$CASE_DIR/out" ||
		fail "crest restore counter on the new crestd: expected checkpoint 2, pid $pid: $(excerpt "$CASE_DIR/out")"
	wait_status counter running
	[ "$ST_PID" = "$pid" ] || fail "restored counter has pid $ST_PID, expected $pid"
	expect_alive "$pid" "after the restore on the new crestd"
	sleep 0.4
	clog counter "$CASE_DIR/log.r"
	logseq_ok "$CASE_DIR/log.r" "@$nl"
	if [ "$LOG_FIRST" -lt 1 ] || [ "$LOG_COUNT" -lt 2 ]; then
		fail "after the restore the log has n=$LOG_FIRST..$LOG_LAST ($LOG_COUNT lines): $(excerpt "$CASE_DIR/log.r")"
	fi
}

# on_shutdown = checkpoint: SIGTERM checkpoints the component; the next
# crestd restores it with the same pid and its log goes on.
t_shutdown() {
	local pid d1 last
	setup
	conf_head 'on_shutdown = checkpoint' '[component counter]' "command = $TARGETS/counter" >"$CONF"
	start_crestd "$CONF"
	d1=$DPID
	wait_status counter running
	pid=$ST_PID
	wait_n counter 3
	ckpt_ids counter
	[ -z "$CK_IDS" ] || fail "checkpoints before the shutdown: '$CK_IDS'"

	kill -TERM "$d1"
	wait_exit "$d1" || fail "crestd $d1 did not exit within 15s of SIGTERM: $(excerpt "$CASE_DIR/crestd.err")"
	[ "$WSTATUS" -eq 0 ] || fail "crestd exited $WSTATUS after SIGTERM: $(excerpt "$CASE_DIR/crestd.err")"
	wait_gone "$pid" "after the shutdown checkpoint"
	[ ! -e "$SOCK" ] || fail "crestd left its socket $SOCK behind"
	[ -s "$STORE/counter/1/crest.core" ] ||
		fail "no checkpoint 1 after the shutdown: $(listdir "$STORE/counter"); crestd: $(excerpt "$CASE_DIR/crestd.err")"
	jcheck 'assert j["pid"] == int(A[0]), "meta.json pid %r" % j["pid"]' "$STORE/counter/1/meta.json" "$pid"
	[ -e "$STORE/counter/.restore-on-start" ] || fail "no $STORE/counter/.restore-on-start after the shutdown"
	cp "$STORE/counter/log" "$CASE_DIR/log.down"
	logseq_ok "$CASE_DIR/log.down"
	last=$LOG_LAST

	start_crestd "$CONF"
	wait_status counter running
	[ "$ST_PID" = "$pid" ] || fail "the next crestd runs counter as pid $ST_PID, not restored as $pid"
	expect_alive "$pid" "after the restore at start-up"
	[ ! -e "$STORE/counter/.restore-on-start" ] || fail "$STORE/counter/.restore-on-start is still there"
	sleep 0.5
	clog counter "$CASE_DIR/log.up"
	logseq_ok "$CASE_DIR/log.up"
	[ "$LOG_FIRST" = 0 ] || fail "the log starts at n=$LOG_FIRST"
	[ "$LOG_LAST" -ge $((last + 3)) ] ||
		fail "0.5 s after the restore the log is at n=$LOG_LAST (n=$last at the shutdown): $(excerpt "$CASE_DIR/log.up")"
	ckpt_ids counter
	[ "$CK_IDS" = 1 ] || fail "the next crestd lists checkpoints '$CK_IDS', expected '1'"
}

# ---- runner ----------------------------------------------------------------

CASES=(e2e concurrency bad_requests bad_config restart_on_failure restart_checkpoint sigkill shutdown)
[ $# -gt 0 ] && CASES=("$@")

run_cases "$CREST" "$CRESTD" -- "${CASES[@]}"
