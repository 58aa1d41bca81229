#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz, clang, ASan+UBSan) and runs each one for a short
# time over its seed corpus (tests/fuzz/corpus/<target>). Any crash, leak, timeout or
# out-of-memory fails the script; the reproducer is left in build-fuzz/artifacts/<target>/.
#   BRIDLE_FUZZ_SECONDS  seconds per target (default 15)
#   BRIDLE_FUZZ_TARGETS  space-separated subset of targets (default: all)
#   BRIDLE_JOBS          targets fuzzed at the same time and compile jobs (default: nproc)
#   BUILD_DIR            build folder (default: build-asan when scripts/sanitize.sh already
#                        built the fuzz targets there (clang), else build-fuzz)
# Long runs: see tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BUILD_DIR:-}" ]; then
  BUILD_DIR=build-fuzz
  if grep -qs '^BRIDLE_FUZZ:BOOL=ON' build-asan/CMakeCache.txt; then BUILD_DIR=build-asan; fi
fi
SECONDS_PER="${BRIDLE_FUZZ_SECONDS:-15}"
JOBS="${BRIDLE_JOBS:-$(nproc)}"
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
if [ "$BUILD_DIR" != build-asan ]; then
  # A fuzz-only build: the libraries and the fuzz targets, no test suite.
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DBRIDLE_FUZZ=ON -DBRIDLE_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" -j"$JOBS" fuzz_targets

targets=()
if [ -n "${BRIDLE_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$BRIDLE_FUZZ_TARGETS"
else
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
logs="$BUILD_DIR/fuzz-logs"
mkdir -p "$logs"

run_one() {
  local t="$1"
  local work="$BUILD_DIR/corpus/$t" art="$BUILD_DIR/artifacts/$t/"
  mkdir -p "$work" "$art" "tests/fuzz/corpus/$t"
  # New inputs go to the build folder's corpus; the committed seeds are only read.
  if "$BUILD_DIR/fuzz/$t" "$work" "tests/fuzz/corpus/$t" -max_total_time="$SECONDS_PER" \
       -seed="${BRIDLE_FUZZ_SEED:-1}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$art" \
       >"$logs/$t.log" 2>&1; then
    echo "fuzz: $t ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$') runs)"
  else
    echo "fuzz: $t FAILED (log: $logs/$t.log, reproducer in $art)" >&2
    tail -n 60 "$logs/$t.log" >&2
    return 1
  fi
}

fail=0
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  names+=("$t")
  if [ "${#pids[@]}" -ge "$JOBS" ]; then
    wait "${pids[0]}" || fail=1
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
if [ "$fail" != 0 ]; then
  echo "fuzz: crashes found (see above)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${SECONDS_PER}s each, no crash"
