#!/usr/bin/env bash
# harness.sh - what the integration test scripts share (sourced, not run).
# A script defines TMP, cleanup_case_dir and its cases t_NAME, sources this,
# and ends with `run_cases BINARY... -- CASE...`.

# State letter of a process (R, S, D, T, t, Z, ...), empty if gone.
pstate() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	printf '%s' "${st%% *}"
}

# alive PID: running or sleeping normally (not stopped, traced, zombie, gone).
alive() {
	case $(pstate "$1") in R | S | D) return 0 ;; *) return 1 ;; esac
}

cleanup_all() {
	local d
	for d in "$TMP"/case.*; do
		[ -d "$d" ] && cleanup_case_dir "$d"
	done
	rm -rf "$TMP"
}

# fail REASON...: end the current case as failed.  Call it only at the top
# level of a case (not inside $(...) or a pipeline).
fail() {
	printf '%s\n' "$*" >"$CASE_DIR/reason"
	exit 1
}

# Only the last lines of a file, on one line, for failure messages.
excerpt() {
	if [ -s "$1" ]; then
		tail -n "${2:-5}" "$1" | tr '\n' '|' | cut -c1-600
	else
		printf '(empty)'
	fi
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || fail "cannot run: $t is not installed"
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || fail "cannot run: needs root ($1)"
}

# timed_out START WHAT: fail if the command that just ended with status RC
# was stopped by `timeout -k 5` (124 after SIGTERM, 137 after SIGKILL).
timed_out() {
	if [ "$RC" -eq 124 ] || { [ "$RC" -eq 137 ] && [ $((SECONDS - $1)) -ge "$CMD_TIMEOUT" ]; }; then
		fail "$2: hung, killed after ${CMD_TIMEOUT}s (status $RC): $(excerpt "$CASE_DIR/err")"
	fi
	return 0
}

# run_cases BINARY... -- CASE...: run each case t_NAME in a subshell of its
# own (its processes are cleaned up when it ends); print PASS/FAIL lines
# (with any `note` a case left) and last "N passed, M failed"; return
# non-zero if anything failed.  A case fails if a BINARY is not executable.
run_cases() {
	local bins=() name b missing status extra passed=0 failed=0
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		bins+=("$1")
		shift
	done
	shift
	for name in "$@"; do
		CASE_DIR=$TMP/case.$name
		mkdir -p "$CASE_DIR"
		if ! declare -F "t_$name" >/dev/null; then
			echo "FAIL $name: no such test case"
			failed=$((failed + 1))
			continue
		fi
		missing=
		for b in "${bins[@]}"; do
			[ -x "$b" ] || missing=$b
		done
		if [ -n "$missing" ]; then
			echo "FAIL $name: cannot run: $missing is not executable"
			failed=$((failed + 1))
			continue
		fi
		(
			trap 'cleanup_case_dir "$CASE_DIR"' EXIT
			"t_$name"
		) >"$CASE_DIR/log" 2>&1
		status=$?
		extra=
		[ -s "$CASE_DIR/note" ] && extra=" ($(tr '\n' ';' <"$CASE_DIR/note" | sed 's/;$//'))"
		if [ "$status" -eq 0 ] && [ ! -e "$CASE_DIR/reason" ]; then
			echo "PASS $name$extra"
			passed=$((passed + 1))
		else
			if [ -s "$CASE_DIR/reason" ]; then
				echo "FAIL $name: $(cat "$CASE_DIR/reason")"
			else
				echo "FAIL $name: exited $status: $(excerpt "$CASE_DIR/log")"
			fi
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
