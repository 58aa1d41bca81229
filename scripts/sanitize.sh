#!/usr/bin/env bash
# ASan + UBSan build (build-asan) and the test suite run there. Leaks are errors
# (detect_leaks=1); any UBSan report stops the test (halt_on_error=1).
#   BUILD_DIR               build folder (default build-asan)
#   BRIDLE_JOBS             parallel compile/test jobs (default: nproc)
#   BRIDLE_SANITIZE_SUITES  test folders built and run: "all" (default: every test, the whole
#                           tree), or any of unit cli modules conformance
#   BRIDLE_SANITIZE_FUZZ=0  do not configure the fuzz targets here
#   CC / CXX                compiler (default: clang when installed, else the system compiler)
#
# CI budget (issue 8, tests/fuzz/README.md): scripts/test.sh must stay under 20 minutes on
# 2 cores without ccache, with the whole suite run here as well. What keeps it there: test
# translation units are compiled -O0 -g1 (tests/CMakeLists.txt), the libraries -O1 -g, and
# lld links the ~100 executables.
#
# With clang, build-asan is also configured with -DBRIDLE_FUZZ=ON: scripts/fuzz.sh then
# builds its targets here over the same sanitized libraries instead of a second full build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-asan}"
JOBS="${BRIDLE_JOBS:-$(nproc)}"
SUITES="${BRIDLE_SANITIZE_SUITES:-all}"
if [ -z "${CXX:-}" ] && command -v clang++ >/dev/null && command -v clang >/dev/null; then
  export CC=clang CXX=clang++
fi
fuzz=OFF
if [ "${BRIDLE_SANITIZE_FUZZ:-1}" = 1 ] && "${CXX:-c++}" --version 2>/dev/null | grep -q clang; then fuzz=ON; fi
# -O1: ASan's recommended level; much cheaper to compile than -O2 and fast enough to run.
# Line tables only: reports keep file:line, and compiling is ~10% cheaper than full -g.
cmake -S . -B "$BUILD_DIR" -G Ninja -DBRIDLE_SANITIZE=ON -DBRIDLE_FUZZ="$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" >/dev/null

ctest_args=()
if [ "$SUITES" = all ]; then
  ninja -C "$BUILD_DIR" -j"$JOBS"
else
  regex="^($(echo "$SUITES" | tr ' ' '|'))_"
  mapfile -t tests < <(ninja -C "$BUILD_DIR" -t targets all | sed -n 's/^\([a-z]*_test_[A-Za-z0-9_]*\): phony$/\1/p' |
                       grep -E "$regex" | sort -u)
  ninja -C "$BUILD_DIR" -j"$JOBS" bridle "${tests[@]}"
  ctest_args=(-R "$regex")
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -x scripts/with-postgres.sh ]; then
  scripts/with-postgres.sh ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" "${ctest_args[@]}"
else
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" "${ctest_args[@]}"
fi
