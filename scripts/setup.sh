#!/usr/bin/env bash
# Installs every system dependency MLOS needs from Debian 12's packages.
# Idempotent: packages already present are skipped, so `make` can call it cheaply.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang-format
  # core, kernels, engine
  libopenblas-dev libprotobuf-dev protobuf-compiler libonnx-dev
  # daemon
  libboost-dev libsqlite3-dev libyaml-cpp-dev libssl-dev libarchive-dev zlib1g-dev rapidjson-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libonnx-testdata wrk
  # python bindings, integration tests, test-model generation
  python3-dev pybind11-dev python3-numpy python3-pytest python3-requests
  python3-torch python3-torchvision python3-onnx python3-sklearn
  # PyTorch integration (torch plugin, training sessions)
  libtorch-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
