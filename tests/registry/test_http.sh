#!/bin/sh
# The C HTTP layer (tests/unit/test_http.c) against a real registry and a drop-before proxy.
# usage: test_http.sh PATH/TO/test_http
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/reg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
registry_start none "$tmp/reg" >/dev/null || exit 1
proxy=$(registry_proxy drop-before "$tmp/reg") || exit 1
"$1" "$(cat "$tmp/reg/url")" "$proxy"
