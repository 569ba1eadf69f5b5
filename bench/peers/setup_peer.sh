#!/bin/bash
# Installs the ONNX Runtime peer (CPU) into bench/peers/node_modules once. --ignore-scripts: the
# package's install script fetches GPU extras from a host we cannot reach; the CPU library ships
# in the package itself.
set -e
cd "$(dirname "$0")"
if [ -d node_modules/onnxruntime-node ]; then exit 0; fi
[ -f package.json ] || echo '{"name": "mlos-bench-peers", "private": true}' > package.json
npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0
