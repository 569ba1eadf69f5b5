#!/usr/bin/env bash
# HTTP benchmarks of mlos_core with wrk (Debian's wrk), on a private daemon:
#   1. GET /health at 64 connections            -> requests/s  (bar: >= 40,000 on 2 cores)
#   2. POST /models/{id}/inference, tiny model  -> requests/s and the server-side overhead
#      (server time minus plugin time, from the daemon's per-model histogram; bar: p50 < 100 us)
#   3. the same inference one request at a time from Python: client round trip vs
#      inference_time_us, an independent view of the overhead including the client's stack.
# Usage: bench/http/run_http_bench.sh [BUILD_DIR] [DURATION_S]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
DUR=${2:-10}
BIN=$BUILD/mlos_core
[ -x "$BIN" ] || { echo "no $BIN; build first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TMP=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
"$BIN" --http-port "$PORT" --data-dir "$TMP/data" --models-dir "$ROOT/models" --no-grpc --no-ipc \
  --log-level warn ${MLOS_BENCH_ARGS:-} 2>"$TMP/daemon.log" &
PID=$!
URL=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && break; sleep 0.1; done

echo "== GET /health, 64 connections, ${DUR}s (wrk -t2 -c64)"
wrk -t2 -c64 -d"${DUR}s" --latency "$URL/health" | tee "$TMP/health.txt"
HEALTH_RPS=$(awk '/Requests\/sec/ {print $2}' "$TMP/health.txt")

MODEL=mlos%2Fdigits%401.0.0
STATE=$(curl -s "$URL/models/$MODEL" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["model"]["status"])')
if [ "$STATE" != "ready" ]; then
  echo "digits model is '$STATE' (no inference backend?); skipping inference benchmarks"
  echo "SUMMARY health_rps=$HEALTH_RPS"
  exit 0
fi
BODY=$(cat "$ROOT/models/mlos/digits/1.0.0/example.json")
cat > "$TMP/infer.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== POST /models/$MODEL/inference, 8 connections, ${DUR}s"
wrk -t2 -c8 -d"${DUR}s" --latency -s "$TMP/infer.lua" "$URL/models/$MODEL/inference" | tee "$TMP/infer.txt"
INFER_RPS=$(awk '/Requests\/sec/ {print $2}' "$TMP/infer.txt")

/usr/bin/python3 - "$URL" "$MODEL" "$ROOT" "$HEALTH_RPS" "$INFER_RPS" <<'PY'
import json, statistics, sys, time, urllib.request
url, model, root, health_rps, infer_rps = sys.argv[1:6]
stats = json.load(urllib.request.urlopen(f"{url}/models/{model}"))["model"]["stats"]
print("== server-side, from the daemon's histograms over all inference requests above")
for k in ("latency", "plugin", "overhead", "queue"):
    print(f"  {k:9s} p50 {stats[k + '_p50_us']:8.1f} us   p99 {stats[k + '_p99_us']:8.1f} us")
body = open(f"{root}/models/mlos/digits/1.0.0/example.json", "rb").read()
import http.client
host, port = url[len("http://"):].split(":")
conn = http.client.HTTPConnection(host, int(port))
rt, eng = [], []
for i in range(3000):
    t0 = time.perf_counter()
    conn.request("POST", f"/models/{model}/inference", body, {"Content-Type": "application/json"})
    r = json.loads(conn.getresponse().read())
    t1 = time.perf_counter()
    if i >= 200:
        rt.append((t1 - t0) * 1e6)
        eng.append(r["inference_time_us"])
diff = sorted(a - b for a, b in zip(rt, eng))
print("== client-side, 2800 sequential requests on one keep-alive connection (Python http.client)")
print(f"  round trip p50 {statistics.median(rt):.1f} us, engine p50 {statistics.median(eng):.1f} us,"
      f" round trip minus engine p50 {diff[len(diff)//2]:.1f} us")
print(f"SUMMARY health_rps={health_rps} infer_rps={infer_rps} "
      f"overhead_p50_us={stats['overhead_p50_us']:.1f} overhead_p99_us={stats['overhead_p99_us']:.1f} "
      f"client_minus_engine_p50_us={diff[len(diff)//2]:.1f}")
PY
