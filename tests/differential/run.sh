#!/bin/sh
# Differential test of hoist.semver against npm's node-semver 7.
# usage: run.sh PATH/TO/hoist [SEED]
# Installs semver@7 into a temporary folder (npm install --prefix), generates the cases and node's
# answers (gen_and_node.js), replays them through hoist (check.lua), and removes the folder.
# Environment: HOIST_NODE_SEMVER=DIR uses an existing node_modules/semver instead of installing;
# HOIST_DIFF_MAX_PRINTED=N prints at most N mismatches (the counts stay complete).
# Exits non-zero when a case differs or a tool is missing.
if [ $# -lt 1 ]; then
  echo "usage: run.sh PATH/TO/hoist [SEED]" >&2
  exit 2
fi
HOIST=$1
SEED=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
  echo "run.sh: node is not installed; the differential test needs Node.js and npm (CI installs them)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

semver_dir=${HOIST_NODE_SEMVER:-}
if [ -z "$semver_dir" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "run.sh: npm is not installed; the differential test needs Node.js and npm (CI installs them)" >&2
    exit 1
  fi
  if ! npm install --prefix "$tmp" --no-audit --no-fund --silent semver@7 >"$tmp/npm.log" 2>&1; then
    echo "run.sh: npm install semver@7 failed:" >&2
    cat "$tmp/npm.log" >&2
    exit 1
  fi
  semver_dir=$tmp/node_modules/semver
fi

node "$HERE/gen_and_node.js" "$semver_dir" "$tmp/cases.jsonl" $SEED || exit 1
"$HOIST" run "$HERE/check.lua" "$tmp/cases.jsonl" ${HOIST_DIFF_MAX_PRINTED:-}
