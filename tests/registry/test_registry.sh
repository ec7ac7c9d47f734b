#!/bin/sh
# The C registry client (tests/unit/test_registry.c) against the real registry in each auth mode.
# usage: test_registry.sh PATH/TO/test_registry
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'for m in none basic token; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
status=0
for mode in none basic token; do
  registry_start "$mode" "$tmp/$mode" >/dev/null || exit 1
  url=$(cat "$tmp/$mode/url")
  if [ "$mode" = none ]; then user=-; pw=-; else user=hoist; pw=$(cat "$tmp/$mode/password"); fi
  echo "--- $mode"
  "$1" "${url#http://}" "$user" "$pw" || status=1
  registry_stop "$tmp/$mode" >/dev/null 2>&1
done
exit $status
