#!/bin/sh
# Push streams (tests/unit/test_pushstream.c: layers uploaded while they are written) against the
# real registry in each auth mode, directly and through the fault proxies they need.
# usage: test_pushstream.sh PATH/TO/test_pushstream
#   HOIST_TEST_WRAPPER: a command to run the binary under (valgrind, say); HOIST_TEST_MODES: the
#   modes to run (default "none basic token").
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
modes=${HOIST_TEST_MODES:-none basic token}
trap 'for m in $modes; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
PROXIES="none drop-patch patch-500 patch-denied chunk-min"
status=0
for mode in $modes; do
  d=$tmp/$mode
  registry_start "$mode" "$d" >/dev/null || exit 1
  for p in $PROXIES; do registry_proxy "$p" "$d" >/dev/null || exit 1; done
  url=$(cat "$d/url")
  if [ "$mode" = none ]; then user=-; pw=-; else user=hoist; pw=$(cat "$d/password"); fi
  echo "--- $mode"
  # shellcheck disable=SC2086  # the wrapper is a command line, split on purpose
  HOIST_TEST_DIR=$d ${HOIST_TEST_WRAPPER:-} "$1" "${url#http://}" "$user" "$pw" >"$d/out" 2>&1 || status=1
  cat "$d/out"
  grep -q '^[0-9]* passed, 0 failed$' "$d/out" || { echo "FAIL: $mode: the test did not finish clean"; status=1; }
  if [ "$pw" != - ] && grep -r -l -F -e "$pw" "$d/out" "$d"/*.log "$d/log" >/dev/null 2>&1; then
    echo "FAIL: $mode: the password appears in the output or a log"; status=1
  fi
  registry_stop "$d" >/dev/null 2>&1
done
exit $status
