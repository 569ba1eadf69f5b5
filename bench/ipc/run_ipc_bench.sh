#!/bin/bash
# Starts build/mlos_core with IPC and HTTP on private paths, registers a tiny model (the
# embedded digits MLP), an echo model (ONNX Identity on float32[N]) and a Relu model on the same
# tensor (an output the engine computes, so it can land in the client's memory uncopied), runs
# bench_ipc, stops the daemon. The daemon runs with --http-shm for the "HTTP + system shared memory" echo row. Usage: bench/ipc/run_ipc_bench.sh [BUILD_DIR] [bench_ipc args...]
set -euo pipefail
BUILD=${1:-build}; shift || true
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/mlos-ipc-bench.XXXXXX)
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 - "$TMP" <<'PY'
import sys, onnx
from onnx import helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])
for op, name in (("Identity", "echo"), ("Relu", "relu")):
    g = helper.make_graph([helper.make_node(op, ["x"], ["y"])], name, [x], [y])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
              f"{sys.argv[1]}/{name}.onnx")
PY
"$BUILD/mlos_core" --http-port "$PORT" --socket "$TMP/mlos.sock" --data-dir "$TMP/data" \
  --models-dir "$REPO/models" --no-grpc --max-body-bytes 1073741824 --log-level warn --http-shm &
PID=$!
for _ in $(seq 300); do [ -S "$TMP/mlos.sock" ] && curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
ECHO_ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/models/register" \
  -d "{\"path\":\"$TMP/echo.onnx\",\"model_id\":\"bench/echo@1\"}" | /usr/bin/python3 -c 'import sys,json; print(json.load(sys.stdin)["model_id"])')
RELU_ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/models/register" \
  -d "{\"path\":\"$TMP/relu.onnx\",\"model_id\":\"bench/relu@1\"}" | /usr/bin/python3 -c 'import sys,json; print(json.load(sys.stdin)["model_id"])')
"$BUILD/bench/bench_ipc" --socket "$TMP/mlos.sock" --http-port "$PORT" --tiny mlos/digits@1.0.0 \
  --tiny-dir "$REPO/models/mlos/digits/1.0.0" --echo "$ECHO_ID" --relu "$RELU_ID" --http-shm 1 "$@"
