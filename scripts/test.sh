#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this): install packages, build, run every
# test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
