#!/bin/sh
# hoist login / logout against the real registry (basic and token auth): a wrong password stores
# nothing and never shows, a right one lands in config.json (0600) and a release without --creds
# uses it; logout removes it. Also through a credential helper (credHelpers) on PATH.
# usage: test_login.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'for m in basic token; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
# nothing of the caller's credentials: a home of our own, no podman files
export HOME="$tmp/home"
unset REGISTRY_AUTH_FILE XDG_RUNTIME_DIR XDG_CONFIG_HOME DOCKER_CONFIG
mkdir -p "$HOME"
cp -R "$ROOT/examples/hello-extension" "$tmp/ext"
EXT="$tmp/ext"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL [$mode]: $*"; }
# every output of hoist, checked at the end for the password
log() { cat "$tmp/out" "$tmp/err" >>"$tmp/all-output"; }

# the fake credential helper: one file per server URL in $tmp/helper/store
mkdir -p "$tmp/bin"
cat >"$tmp/bin/docker-credential-hoisttest" <<'EOF'
#!/bin/sh
store="$HOIST_TEST_HELPER_STORE"
mkdir -p "$store"
echo "$*" >>"$store/../calls.log"
input=$(cat)
case "$1" in
get) f="$store/$(printf %s "$input" | tr '/:' '__')"
     if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store) url=$(printf %s "$input" | sed -n 's/.*"ServerURL": *"\([^"]*\)".*/\1/p')
       printf %s "$input" >"$store/$(printf %s "$url" | tr '/:' '__')" ;;
erase) f="$store/$(printf %s "$input" | tr '/:' '__')"
       if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
EOF
chmod 755 "$tmp/bin/docker-credential-hoisttest"
export HOIST_TEST_HELPER_STORE="$tmp/helper/store"
PATH="$tmp/bin:$PATH"

for mode in basic token; do
  rc=0
  registry_start "$mode" "$tmp/$mode" >/dev/null || rc=$?
  [ "$rc" -eq 77 ] && exit 77
  [ "$rc" -eq 0 ] || exit 1
  host=$(sed 's|http://||' "$tmp/$mode/url")
  pw=$(cat "$tmp/$mode/password")
  export DOCKER_CONFIG="$tmp/$mode/docker"
  cfg="$DOCKER_CONFIG/config.json"

  # usage errors: exit 2, nothing written
  "$HOIST" login "$host" --password-stdin </dev/null >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 2 ] && ok || ko "login without -u: not a usage error"; log
  printf '%s\n' "$pw" | "$HOIST" login "$host" -u hoist >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 2 ] && ok || ko "login without a password: not a usage error"; log
  printf '%s\n' "$pw" | "$HOIST" login "$host" -u hoist --password-stdin -p "$pw" >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 2 ] && ok || ko "--password-stdin and -p: not a usage error"; log
  "$HOIST" login -u hoist --password-stdin </dev/null >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 2 ] && ok || ko "login without a host: not a usage error"; log
  "$HOIST" login "$host" -u hoist --password-stdin </dev/null >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 2 ] && ok || ko "empty stdin: not a usage error"; log
  [ ! -e "$cfg" ] && ok || ko "a usage error wrote $cfg"

  # a wrong password: exit 1, says so, shows no password, writes nothing
  printf '%s\n' "wrong-$pw" | "$HOIST" login "$host" -u hoist --password-stdin >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 1 ] && grep -q "authentication failed for $host" "$tmp/err" && ok || { ko "wrong password"; cat "$tmp/err"; }
  log
  [ ! -e "$cfg" ] && [ ! -e "$DOCKER_CONFIG" ] && ok || ko "a failed login wrote something"

  # the right one: config.json 0600 in a 0700 folder, the auth entry
  printf '%s\n' "$pw" | "$HOIST" login "$host" -u hoist --password-stdin >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 0 ] && grep -q "Login Succeeded" "$tmp/err" && [ ! -s "$tmp/out" ] && ok || { ko "login"; cat "$tmp/err"; }
  log
  [ "$(stat -c %a "$cfg" 2>/dev/null)" = 600 ] && ok || ko "config.json mode: $(stat -c %a "$cfg" 2>&1)"
  [ "$(stat -c %a "$DOCKER_CONFIG" 2>/dev/null)" = 700 ] && ok || ko "config folder mode: $(stat -c %a "$DOCKER_CONFIG" 2>&1)"
  python3 - "$cfg" "$host" "$pw" <<'PY' && ok || ko "config.json entry"
import base64, json, sys
cfg = json.load(open(sys.argv[1]))
assert base64.b64decode(cfg["auths"][sys.argv[2]]["auth"]).decode() == "hoist:" + sys.argv[3], cfg
PY

  # --json, and -p (which warns but works)
  "$HOIST" --json login "$host" -u hoist -p "$pw" >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 0 ] && grep -q "password-stdin" "$tmp/err" && ok || { ko "login -p"; cat "$tmp/err"; }
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r == {"registry": sys.argv[2], "username": "hoist"}, r' \
    "$tmp/out" "$host" && ok || { ko "login --json"; cat "$tmp/out"; }
  grep -F -q -- "$pw" "$tmp/out" "$tmp/err" && ko "-p printed the password" || ok

  # a release with no --creds uses the stored credentials
  "$HOIST" release "$EXT" --version 1.0.0 --to "docker://$host/ns/app" >"$tmp/out" 2>"$tmp/err" \
    && ok || { ko "release with stored credentials"; cat "$tmp/err"; }
  log
  # --creds still overrides them (a wrong one fails although good ones are stored)
  "$HOIST" release "$EXT" --version 1.0.1 --to "docker://$host/ns/app" --creds "hoist:bad-$pw" >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 1 ] && grep -q "authentication failed" "$tmp/err" && ok || { ko "--creds does not override"; cat "$tmp/err"; }
  log

  # logout removes them; a second logout has nothing to remove; a release is refused again
  "$HOIST" logout "$host" >"$tmp/out" 2>"$tmp/err" && ok || { ko "logout"; cat "$tmp/err"; }
  log
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert sys.argv[2] not in c.get("auths", {}), c' "$cfg" "$host" \
    && ok || ko "logout left the entry"
  "$HOIST" logout "$host" >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 1 ] && grep -q "not logged in" "$tmp/err" && ok || { ko "second logout"; cat "$tmp/err"; }
  log
  "$HOIST" release "$EXT" --version 2.0.0 --to "docker://$host/ns/app" >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 1 ] && grep -q -e "needs credentials" -e "authentication failed" "$tmp/err" && ok || { ko "release after logout"; cat "$tmp/err"; }
  log

  # credHelpers: the secret goes to the helper, not into config.json
  printf '{"credHelpers": {"%s": "hoisttest"}, "psFormat": "keep me"}\n' "$host" >"$cfg"
  printf '%s\n' "wrong-$pw" | "$HOIST" login "$host" -u hoist --password-stdin >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 1 ] && [ ! -e "$tmp/helper/calls.log" ] && ok || ko "a wrong password reached the helper"
  log
  printf '%s\n' "$pw" | "$HOIST" login "$host" -u hoist --password-stdin >"$tmp/out" 2>"$tmp/err" \
    && ok || { ko "login through the helper"; cat "$tmp/err"; }
  log
  grep -q '^store' "$tmp/helper/calls.log" 2>/dev/null && ok || ko "the helper was not asked to store"
  grep -F -q -- "$pw" "$cfg" && ko "the password is in config.json" || ok
  grep -q '"keep me"' "$cfg" && ok || ko "config.json lost a key"
  "$HOIST" release "$EXT" --version 3.0.0 --to "docker://$host/ns/app" >"$tmp/out" 2>"$tmp/err" \
    && ok || { ko "release with helper credentials"; cat "$tmp/err"; }
  log
  grep -q '^get' "$tmp/helper/calls.log" && ok || ko "the helper was not asked"
  "$HOIST" logout "$host" >"$tmp/out" 2>"$tmp/err" && grep -q '^erase' "$tmp/helper/calls.log" \
    && ok || { ko "logout through the helper"; cat "$tmp/err"; }
  log
  "$HOIST" release "$EXT" --version 4.0.0 --to "docker://$host/ns/app" >"$tmp/out" 2>"$tmp/err"
  [ $? -eq 1 ] && ok || { ko "release after helper logout"; cat "$tmp/err"; }
  log
  rm -rf "$tmp/helper"

  # the password never appeared in anything hoist printed
  grep -F -q -- "$pw" "$tmp/all-output" && ko "the password was printed" || ok
  registry_stop "$tmp/$mode" >/dev/null 2>&1
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
