#!/usr/bin/env bash
# crestd stays responsive while it checkpoints: a 4 GiB component is
# checkpointed (left running) while a client sends `list` and `status`
# requests back to back; prints the latency of each kind (median, p99,
# max) during the checkpoint.  The aim (issue: list/status within 50 ms) is
# printed beside the figures; nothing here fails on timing.
#   CREST=... CRESTD=... TARGETS=... BENCHBIN=... bench/crestd_latency.sh [MIB]
set -euo pipefail
MIB=${1:-4096}
work=$(mktemp -d /tmp/crestd-lat.XXXXXX)
dpid=
cleanup() {
	[ -n "$dpid" ] && kill -TERM "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/crestd.conf" <<CONF
[crestd]
store = $work/store
socket = $work/sock

[component big]
command = $TARGETS/bigmem $MIB
CONF
"$BENCHBIN/closefds" "$CRESTD" -c "$work/crestd.conf" 2>"$work/crestd.err" &
dpid=$!
export CREST_SOCKET=$work/sock
for _ in $(seq 600); do
	grep -q ready "$work/store/big/log" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$work/store/big/log" || { echo "crestd_latency: bigmem $MIB never got ready" >&2; exit 1; }
"$CREST" checkpoint big --leave-running >"$work/ckpt.out" 2>&1 &
cpid=$!
python3 - "$work/sock" "$cpid" <<'PY'
import json, os, socket, sys, time
path, cpid = sys.argv[1], int(sys.argv[2])
lat = {"list": [], "status": []}
def alive(p):
    try:
        os.kill(p, 0)
        with open("/proc/%d/stat" % p) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
while alive(cpid):
    for cmd in ("list", "status"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        t = time.monotonic()
        s.connect(path)
        req = {"cmd": cmd} if cmd == "list" else {"cmd": cmd, "label": "big"}
        s.send(json.dumps(req).encode())
        r = json.loads(s.recv(65536))
        lat[cmd].append((time.monotonic() - t) * 1000)
        s.close()
        assert r.get("ok"), r
for cmd, v in lat.items():
    v.sort()
    if not v:
        print("crestd during a checkpoint: no %s request answered (checkpoint too fast?)" % cmd)
        continue
    p99 = v[min(len(v) - 1, int(len(v) * 0.99))]
    print("crestd during a checkpoint: %-6s %4d requests, median %.2f ms, p99 %.2f ms, max %.2f ms (aim: < 50 ms)"
          % (cmd, len(v), v[len(v) // 2], p99, v[-1]))
PY
wait "$cpid" || { echo "crestd_latency: the checkpoint failed: $(cat "$work/ckpt.out")" >&2; exit 1; }
sed 's/^/  /' "$work/ckpt.out"
