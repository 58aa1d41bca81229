#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this): install packages, build, run every
# test; then the sanitizer build's tests and short fuzzing runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
# Tests that need PostgreSQL get a private server for the run (scripts/with-postgres.sh).
if [ -x scripts/with-postgres.sh ]; then
  scripts/with-postgres.sh ctest --test-dir build --output-on-failure -j"$(nproc)"
else
  ctest --test-dir build --output-on-failure -j"$(nproc)"
fi
# ASan+UBSan build of everything, whole suite again (scripts/sanitize.sh), then each fuzz
# target for a short time (scripts/fuzz.sh).
if [ -x scripts/sanitize.sh ] && [ "${BRIDLE_SKIP_SANITIZE:-0}" != 1 ]; then scripts/sanitize.sh; fi
if [ -x scripts/fuzz.sh ] && [ "${BRIDLE_SKIP_FUZZ:-0}" != 1 ]; then scripts/fuzz.sh; fi
