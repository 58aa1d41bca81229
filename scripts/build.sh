#!/usr/bin/env bash
# Configures and builds bridle into build/ (optimised, tests included).
# Debug info is line tables only (-g1): backtraces and profiles keep file:line, and the build
# is a quarter cheaper than with full -g (CI budget, issue 8). Pass
# -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG" for full debug info.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" "$@" >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)"
