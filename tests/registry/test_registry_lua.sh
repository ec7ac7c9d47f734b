#!/bin/sh
# hoist.registry from Lua (registry_client.lua) against the real registry in each auth mode.
# usage: test_registry_lua.sh PATH/TO/hoist
here=$(cd "$(dirname "$0")" && pwd)
HOIST_REGISTRY_TOOLS=$here
export HOIST_REGISTRY_TOOLS
. "$here/registry.sh"
tmp=$(mktemp -d)
trap 'for m in none basic token; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT

# Six blobs of deterministic bytes (the 5th spans several 256 KiB chunks; the 6th is never pushed).
mkdir -p "$tmp/blobs"
python3 - "$tmp/blobs" <<'PY' || exit 1
import hashlib, random, sys
out = sys.argv[1]
rnd = random.Random(1234)
with open(out + "/index.txt", "w") as idx:
    for i, size in enumerate((7, 1000, 65536, 300000, 900001, 3)):
        data = bytes(rnd.getrandbits(8) for _ in range(size))
        name = "b%d.bin" % i
        with open("%s/%s" % (out, name), "wb") as f:
            f.write(data)
        idx.write("sha256:%s %d %s\n" % (hashlib.sha256(data).hexdigest(), size, name))
PY
status=0
for mode in none basic token; do
  d=$tmp/$mode
  registry_start "$mode" "$d" >/dev/null || exit 1
  url=$(cat "$d/url")
  refresh=
  if [ "$mode" = none ]; then user=-; pw=-; else user=hoist; pw=$(cat "$d/password"); fi
  if [ "$mode" = token ]; then
    refresh=$(printf 'password=%s' "$pw" | curl -s --data-urlencode grant_type=password \
      --data-urlencode username=hoist --data-urlencode "service=$(cat "$d/service")" \
      --data-urlencode client_id=test-setup --data-urlencode access_type=offline --data @- \
      "$(cat "$d/issuer.url")/token" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])') || status=1
  fi
  echo "--- $mode"
  "$1" run "$here/registry_client.lua" "${url#http://}" "$user" "$pw" "$tmp/blobs" "$mode" "$refresh" \
    >"$d/out" 2>&1 || status=1
  cat "$d/out"
  grep -q -F -e lua-wrong-pw -e lua-bogus-refresh "$d/out" && { echo "FAIL: $mode: a secret in the output"; status=1; }
  registry_stop "$d" >/dev/null 2>&1
done
exit $status
