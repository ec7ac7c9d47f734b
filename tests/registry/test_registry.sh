#!/bin/sh
# The C registry client (tests/unit/test_registry.c) against the real registry in each auth mode,
# directly and through fault proxies (one per pattern the test uses, started here).
# usage: test_registry.sh PATH/TO/test_registry
#   HOIST_TEST_WRAPPER: a command to run the binary under (e.g. "valgrind --leak-check=full
#   --error-exitcode=1"); HOIST_TEST_MODES: the modes to run (default "none basic token").
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
modes=${HOIST_TEST_MODES:-none basic token}
trap 'for m in $modes; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
PROXIES="none drop-patch patch-500 chunk-min head-405 delete-405 fail-every-3 corrupt-blobs
redirect-blobs drop-mid scope-widen blob-unknown"
status=0
for mode in $modes; do
  d=$tmp/$mode
  registry_start "$mode" "$d" >/dev/null || exit 1
  for p in $PROXIES; do registry_proxy "$p" "$d" >/dev/null || exit 1; done
  url=$(cat "$d/url")
  refresh=
  if [ "$mode" = none ]; then user=-; pw=-; else user=hoist; pw=$(cat "$d/password"); fi
  if [ "$mode" = token ]; then
    # a refresh token for the identity-token flow: the issuer's OAuth2 password grant, offline
    refresh=$(printf 'password=%s' "$pw" | curl -s --data-urlencode grant_type=password \
      --data-urlencode username=hoist --data-urlencode "service=$(cat "$d/service")" \
      --data-urlencode client_id=test-setup --data-urlencode access_type=offline --data @- \
      "$(cat "$d/issuer.url")/token" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])') ||
      { echo "FAIL: token: no refresh token from the issuer"; status=1; }
  fi
  echo "--- $mode"
  # shellcheck disable=SC2086  # the wrapper is a command line, split on purpose
  HOIST_TEST_DIR=$d HOIST_TEST_MODE=$mode HOIST_TEST_REFRESH_TOKEN=$refresh \
    ${HOIST_TEST_WRAPPER:-} "$1" "${url#http://}" "$user" "$pw" >"$d/out" 2>&1 || status=1
  cat "$d/out"
  # No secret in anything the client said, nor in any log: the password (right or wrong), the
  # refresh token.
  for secret in definitely-wrong-pw not-a-refresh-token ${refresh:+"$refresh"} $([ "$pw" = - ] || echo "$pw"); do
    if grep -r -l -F -e "$secret" "$d/out" "$d"/*.log "$d/log" 2>/dev/null | grep -v '^$' >"$d/leak"; then
      echo "FAIL: $mode: a secret appears in $(tr '\n' ' ' <"$d/leak")"; status=1
    fi
  done
  grep -q '^note: .*authentication failed' "$d/out" || [ "$mode" = none ] ||
    { echo "FAIL: $mode: the wrong password was not refused"; status=1; }
  registry_stop "$d" >/dev/null 2>&1
done
exit $status
