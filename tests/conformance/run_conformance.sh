#!/bin/bash
# Runs `mlosctl conformance` on each ONNX backend-test folder and fails if any folder's pass count
# drops below the committed baseline (baseline.txt: "<folder> <min passed>" per line).
# usage: run_conformance.sh MLOSCTL BASELINE [DATA_DIR]
set -u
MLOSCTL=$1
BASELINE=$2
DATA=${3:-/usr/share/libonnx-testdata/data}
if [ ! -d "$DATA" ]; then
  echo "conformance data not found at $DATA; skipping"
  exit 77
fi
status=0
while read -r folder want; do
  [ -z "$folder" ] && continue
  case "$folder" in \#*) continue ;; esac
  out=$(timeout 900 "$MLOSCTL" conformance "$DATA/$folder" 2>&1)
  rc=$?
  last=$(printf '%s\n' "$out" | tail -n 1)
  passed=$(printf '%s\n' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  if [ -z "$passed" ]; then
    echo "FAIL $folder: mlosctl did not finish (rc $rc); last line: $last"
    printf '%s\n' "$out" | tail -n 5
    status=1
    continue
  fi
  skipped=$(printf '%s\n' "$out" | grep -c '^SKIP ')
  echo "$folder: $last, $skipped skipped (baseline $want passed)"
  printf '%s\n' "$out" | grep '^FAIL ' | cut -c1-200
  if [ "$passed" -lt "$want" ]; then
    echo "FAIL $folder: $passed passed < baseline $want"
    status=1
  fi
done < "$BASELINE"
exit $status
