#!/bin/bash
# Ours (bench_op_profile) against ONNX Runtime at the same thread count, interleaved, reporting
# wall medians and process-CPU-time medians per run (the robust figure at 1 thread on a shared
# machine). usage: bench/cnn/cpu_compare.sh BUILD_DIR (env MODELS, THREADS, ROUNDS, ITERS)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
MODELS="${MODELS:-mobilenet_v2 efficientnet_b0 resnet34}"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-3}"
ITERS="${ITERS:-20}"
export NODE_PATH="$ROOT/bench/peers/node_modules"
printf "%-16s %3s %10s %10s %7s %10s %10s %7s\n" model thr our_wall ort_wall ratio our_cpu ort_cpu ratio
for t in $THREADS; do
  for m in $MODELS; do
    d="$ROOT/bench/models/$m"
    ow=(); oc=(); pw=(); pc=()
    for r in $(seq "$ROUNDS"); do
      line=$("$BUILD/bench/bench_op_profile" "$d/model.onnx" --threads "$t" --iters "$ITERS" \
        --top 0 --input "pixel_values=$d/test_data_set_0/input_0.pb" | head -1)
      ow+=("$(echo "$line" | sed -n 's/.*run median \([0-9.]*\).*/\1/p')")
      oc+=("$(echo "$line" | sed -n 's/.*cpu median \([0-9.]*\).*/\1/p')")
      j=$(node "$ROOT/bench/cnn/ort_cpu.js" "$d" "$t" "$ITERS")
      pw+=("$(echo "$j" | sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p')")
      pc+=("$(echo "$j" | sed -n 's/.*"cpu_median_ms":\([0-9.]*\).*/\1/p')")
    done
    best() { printf '%s\n' "$@" | sort -g | head -1; }
    a=$(best "${ow[@]}"); b=$(best "${pw[@]}"); c=$(best "${oc[@]}"); e=$(best "${pc[@]}")
    printf "%-16s %3s %10.3f %10.3f %7.3f %10.3f %10.3f %7.3f\n" "$m" "$t" "$a" "$b" \
      "$(awk -v x="$a" -v y="$b" 'BEGIN{print x/y}')" "$c" "$e" "$(awk -v x="$c" -v y="$e" 'BEGIN{print x/y}')"
  done
done
