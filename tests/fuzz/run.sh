#!/bin/sh
# Runs the semver fuzzer for a bounded time over a copy of the seed corpus.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# BUILD_DIR is a tree configured with -DHOIST_FUZZ=ON. Crash, leak and timeout
# reproducers land in BUILD_DIR/fuzz-artifacts/; replay one with
#   BUILD_DIR/tests/fuzz/fuzz_semver FILE
# Exits non-zero when the fuzzer finds anything. Extra libFuzzer options can
# be passed in FUZZ_FLAGS (e.g. FUZZ_FLAGS=-jobs=4).
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/tests/fuzz/fuzz_semver
if [ ! -x "$bin" ]; then
  echo "$0: no $bin; build it with: cmake --build $build --target fuzz_semver" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hoist-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/corpus" "$build/fuzz-artifacts"
cp "$here"/corpus/semver/* "$work/corpus/"
artifacts=$(cd "$build/fuzz-artifacts" && pwd)
before=$(find "$artifacts" -type f | wc -l)
touch "$work/stamp"

status=0
# shellcheck disable=SC2086
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1024 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} \
  "$work/corpus" || status=$?

after=$(find "$artifacts" -type f | wc -l)
if [ "$status" -ne 0 ] || [ "$after" -ne "$before" ]; then
  echo "$0: fuzz_semver failed (exit $status); reproducers in $artifacts:" >&2
  find "$artifacts" -type f -newer "$work/stamp" >&2
  exit 1
fi
echo "$0: no findings in $seconds s"
