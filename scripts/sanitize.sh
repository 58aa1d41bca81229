#!/usr/bin/env bash
# ASan + UBSan build of everything (build-asan) and the whole test suite run there.
# Leaks are errors (detect_leaks=1); any UBSan report stops the test (halt_on_error=1).
#   BUILD_DIR        build folder (default build-asan)
#   BRIDLE_JOBS      parallel compile/test jobs (default: nproc)
#   CC / CXX         compiler (default: clang when installed, else the system compiler)
#   BRIDLE_SANITIZE_FUZZ=0  do not build the fuzz targets here
# With clang, build-asan also builds the libFuzzer targets (-DBRIDLE_FUZZ=ON): the libraries
# are compiled once for both the sanitizer test run and scripts/fuzz.sh (which then reuses
# this folder), instead of a second full ASan build in build-fuzz (CI budget, issue 8).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-asan}"
JOBS="${BRIDLE_JOBS:-$(nproc)}"
if [ -z "${CXX:-}" ] && command -v clang++ >/dev/null && command -v clang >/dev/null; then
  export CC=clang CXX=clang++
fi
# -O1: ASan's recommended level; much cheaper to compile than -O2 and fast enough to run.
fuzz=OFF
if [ "${BRIDLE_SANITIZE_FUZZ:-1}" = 1 ] && "${CXX:-c++}" --version 2>/dev/null | grep -q clang; then fuzz=ON; fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DBRIDLE_SANITIZE=ON -DBRIDLE_FUZZ="$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
ninja -C "$BUILD_DIR" -j"$JOBS"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -x scripts/with-postgres.sh ]; then
  scripts/with-postgres.sh ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS"
else
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS"
fi
