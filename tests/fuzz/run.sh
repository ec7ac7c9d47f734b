#!/bin/sh
# Runs libFuzzer targets for a bounded time each, over a copy of their seed corpus.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# TARGET is a name such as semver, ref, authhdr or linkhdr (a "fuzz_" prefix is
# accepted too); without one, every tests/fuzz/fuzz_*.c target runs, one after
# the other, for SECONDS each. BUILD_DIR is a tree configured with
# -DHOIST_FUZZ=ON. Seeds come from tests/fuzz/corpus/NAME/ and a dictionary
# from tests/fuzz/NAME.dict when there is one. Crash, leak and timeout
# reproducers land in BUILD_DIR/fuzz-artifacts/ as fuzz_NAME-<kind>-<hash>;
# replay one with
#   BUILD_DIR/tests/fuzz/fuzz_NAME FILE
# Exits non-zero when a fuzzer finds anything (the other targets still run).
# Extra libFuzzer options can be passed in FUZZ_FLAGS (e.g. FUZZ_FLAGS=-jobs=4).
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -eq 0 ]; then
  for src in "$here"/fuzz_*.c; do
    name=${src##*/fuzz_}
    set -- "$@" "${name%.c}"
  done
fi

# Longest input per target: a bit past each parser's own bound, so the bound is hit.
max_len() {
  case $1 in
    ref) echo 1200 ;;
    authhdr | linkhdr) echo 9000 ;;
    manifest) echo 16384 ;;  # real manifests and indexes run to a few KiB
    metadata) echo 8192 ;;
    yaml) echo 8192 ;;
    *) echo 1024 ;;
  esac
}

mkdir -p "$build/fuzz-artifacts"
artifacts=$(cd "$build/fuzz-artifacts" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hoist-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

failed=""
for target in "$@"; do
  name=${target#fuzz_}
  bin=$build/tests/fuzz/fuzz_$name
  if [ ! -x "$bin" ]; then
    echo "$0: no $bin; build it with: cmake --build $build --target fuzz_$name" >&2
    exit 2
  fi
  mkdir -p "$work/$name"
  if [ -d "$here/corpus/$name" ]; then
    cp "$here/corpus/$name"/* "$work/$name/"
  fi
  dict=""
  if [ -f "$here/$name.dict" ]; then
    dict="-dict=$here/$name.dict"
  fi
  before=$(find "$artifacts" -type f | wc -l)
  touch "$work/stamp-$name"

  echo "$0: fuzz_$name for $seconds s"
  status=0
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
    -print_final_stats=1 -artifact_prefix="$artifacts/fuzz_$name-" $dict ${FUZZ_FLAGS:-} \
    "$work/$name" || status=$?

  after=$(find "$artifacts" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$after" -ne "$before" ]; then
    echo "$0: fuzz_$name failed (exit $status); reproducers in $artifacts:" >&2
    find "$artifacts" -type f -newer "$work/stamp-$name" >&2
    failed="$failed fuzz_$name"
  else
    echo "$0: fuzz_$name: no findings in $seconds s"
  fi
done

if [ -n "$failed" ]; then
  echo "$0: findings in:$failed" >&2
  exit 1
fi
echo "$0: no findings ($*; $seconds s each)"
