#!/usr/bin/env bash
# Installs the build into a temporary prefix, then compiles the seed's C++ examples exactly as
# written against the installed headers, once with pkg-config and once with find_package(mlos),
# and runs them.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
src_dir=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
pc=$(find "$work/prefix" -name mlos.pc | head -n 1)
export PKG_CONFIG_PATH="$(dirname "$pc")"

for ex in kernel_usage matrix_multiplication tensor_tour; do
  # shellcheck disable=SC2046
  g++ "$src_dir/examples/cpp/$ex.cpp" -o "$work/$ex" $(pkg-config --cflags --libs mlos)
  "$work/$ex" >/dev/null
  echo "pkg-config: $ex compiled and ran"
done

mkdir -p "$work/cmake_consumer"
cat > "$work/cmake_consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(consumer CXX)
find_package(mlos REQUIRED)
add_executable(matrix_multiplication matrix_multiplication.cpp)
target_link_libraries(matrix_multiplication PRIVATE mlos::mlos)
CMAKE
cp "$src_dir/examples/cpp/matrix_multiplication.cpp" "$work/cmake_consumer/"
cmake -S "$work/cmake_consumer" -B "$work/cmake_consumer/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake_consumer/build" >/dev/null
"$work/cmake_consumer/build/matrix_multiplication"
echo "find_package: matrix_multiplication compiled and ran"
