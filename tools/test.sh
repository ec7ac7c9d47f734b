#!/usr/bin/env bash
# Runs every test of hoist, in this order:
#   0. tools/check-layers.sh (the C cores know nothing of Lua; recipes reach C only through the library)
#   1. the normal build and its ctest suite (C unit, Lua, CLI, node-semver differential)
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#   3. the tests of threaded code built with ThreadSanitizer
#   4. the C unit tests under valgrind (no leaks, no invalid accesses)
#   5. the libFuzzer targets for a bounded time (HOIST_FUZZ_SECONDS, default 60 each)
# Build folders: build/, build-asan/, build-tsan/, build-fuzz/. Exit status 0 only if every stage
# passed; the checks that failed are repeated at the end, with the failed stages named.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failed_names=()
# Each stage's output is also kept, so that the end of the run can repeat why a stage failed: CI
# keeps only the tail of a long run, and the fuzz stage alone prints more than that tail.
logs=$(mktemp -d "${TMPDIR:-/tmp}/hoist-test.XXXXXX")
stage() {
  local name=$1; shift
  local log
  log="$logs/$((passed + failed)).log"
  echo "=== $name"
  if "$@" 2>&1 | tee "$log"; then passed=$((passed + 1)); echo "=== $name: ok"
  else failed=$((failed + 1)); failed_names+=("$name|$log"); echo "=== $name: FAILED"; fi
}

why_failed() {  # why_failed LOG: the lines that say which check failed, and what it printed
  grep -a -n -E -B3 -A25 'FAILED|Failed|failed|not ok|ERROR|Assertion|ThreadSanitizer:|AddressSanitizer|runtime error|Errors while running' "$1" |
    grep -a -v -E '^[0-9]+[-:]#[0-9]+' | head -n 200
}

build() {  # build DIR CMAKE_ARGS...
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j "$jobs"
}

normal() {
  build build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    ctest --test-dir build --output-on-failure -j "$jobs"
}

sanitized() {
  build build-asan -DCMAKE_BUILD_TYPE=Debug -DHOIST_SANITIZE=ON &&
    HOIST_GC_STRESS=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
}

threads() {
  build build-tsan -DCMAKE_BUILD_TYPE=Debug -DHOIST_TSAN=ON &&
    HOIST_GC_STRESS=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" -R '^(registry\.client|registry\.lua_client|registry\.pushstream|registry\.stream|unit\.layer|lua\.test_oci|lua\.test_fs)$'
}

valgrind_unit() {
  local t ok=0 n=0
  for t in build/tests/test_*; do
    [ -x "$t" ] || continue
    n=$((n + 1))
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
      --error-exitcode=1 "$t" tests/unit/cases >/dev/null || { echo "valgrind: $t failed"; ok=1; }
  done
  # a stage that found no test program must not pass
  [ "$n" -gt 0 ] || { echo "valgrind: no unit test programs in build/tests"; return 1; }
  echo "valgrind: $n unit test programs clean"
  return $ok
}

fuzz() {
  if ! command -v clang >/dev/null; then
    echo "clang is missing: run tools/deps.sh"; return 1
  fi
  CC=clang build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOIST_FUZZ=ON -DHOIST_TESTS=OFF &&
    tests/fuzz/run.sh build-fuzz "${HOIST_FUZZ_SECONDS:-60}"
}

stage "layers (tools/check-layers.sh)" tools/check-layers.sh
stage "build and test" normal
stage "ASan+UBSan" sanitized
stage "ThreadSanitizer" threads
stage "valgrind (C unit tests)" valgrind_unit
stage "fuzz" fuzz
for entry in "${failed_names[@]}"; do
  echo "=== why '${entry%%|*}' failed (from its log)"
  why_failed "${entry#*|}"
done
names=""
for entry in "${failed_names[@]}"; do names="$names${names:+, }${entry%%|*}"; done
echo "stages: $passed passed, $failed failed${names:+ ($names)}"
rm -rf "$logs"
[ "$failed" -eq 0 ]
