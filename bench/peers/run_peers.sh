#!/bin/bash
# Times mlosctl bench against ONNX Runtime (CPU, npm onnxruntime-node) on the public benchmark
# models, interleaved and at the same thread count, and prints the ratio per model and the
# geometric mean. usage: bench/peers/run_peers.sh [BUILD_DIR] (env: THREADS="1 2", ROUNDS=3,
# ITERS=20, MODELS_DIR=bench/models, MODELS="mlp encoder ...")
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
MLOSCTL="$BUILD/mlosctl"
THREADS="${THREADS:-1 2}"
ROUNDS="${ROUNDS:-3}"
ITERS="${ITERS:-20}"
MODELS_DIR="${MODELS_DIR:-$ROOT/bench/models}"
TOOLS="$ROOT/../shared/tools"
[ -d "$TOOLS" ] || TOOLS=/work/shared/tools
[ -x "$MLOSCTL" ] || { echo "missing $MLOSCTL (build first)"; exit 1; }

bash "$ROOT/bench/peers/setup_peer.sh"
if [ ! -f "$MODELS_DIR/gru/model.onnx" ]; then
  /usr/bin/python3 "$TOOLS/make_bench_models.py" "$MODELS_DIR" >/dev/null 2>&1
fi
MODELS="${MODELS:-mobilenet_v2 efficientnet_b0 resnet34 encoder tiny_gpt mlp gru}"
export NODE_PATH="$ROOT/bench/peers/node_modules"

json_field() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p"; }

printf "%-16s %3s %12s %12s %8s\n" model thr mlos_ms ort_ms ratio
for t in $THREADS; do
  logsum=0; n=0
  for m in $MODELS; do
    d="$MODELS_DIR/$m"
    args=()
    i=0
    while [ -f "$d/test_data_set_0/input_$i.pb" ]; do
      name=$(/usr/bin/python3 -c "import json;print(json.load(open('$d/peer_inputs.json'))[$i]['name'])")
      args+=(--input "$name=$d/test_data_set_0/input_$i.pb"); i=$((i+1))
    done
    ours=(); peer=()
    for r in $(seq "$ROUNDS"); do  # interleaved rounds; the best median of each side is kept
      o=$("$MLOSCTL" bench "$d/model.onnx" --threads "$t" --iters "$ITERS" --warmup 3 "${args[@]}" | json_field median_ms)
      p=$(node "$TOOLS/ort_peer.js" "$d" "$t" "$ITERS" | json_field median_ms)
      ours+=("$o"); peer+=("$p")
    done
    o=$(printf '%s\n' "${ours[@]}" | sort -g | head -1)
    p=$(printf '%s\n' "${peer[@]}" | sort -g | head -1)
    ratio=$(awk -v a="$o" -v b="$p" 'BEGIN{printf "%.3f", a/b}')
    logsum=$(awk -v s="$logsum" -v r="$ratio" 'BEGIN{print s+log(r)}'); n=$((n+1))
    printf "%-16s %3s %12.3f %12.3f %8s\n" "$m" "$t" "$o" "$p" "$ratio"
  done
  printf "%-16s %3s %12s %12s %8.3f\n" geomean "$t" "" "" "$(awk -v s="$logsum" -v n="$n" 'BEGIN{print exp(s/n)}')"
done
