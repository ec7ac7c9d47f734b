#!/usr/bin/env bash
# A cancelled CI job (SIGTERM) or a Ctrl-C (SIGINT) in the middle of a release leaves nothing
# behind: no staging folder in TMPDIR, no temp file in the destination layout or the cache, no
# tag; hoist exits 128 + the signal. The signal is sent once the release is seen doing the work
# it interrupts (a temp layer file appears, the proxy logs the first upload), never after a sleep.
# usage: test_signals.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/reg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
. "$ROOT/tests/check.sh"

# an extension with a layer big enough to take a while to compress and to push
cp -r "$ROOT/examples/hello-extension" "$tmp/ext"
mkdir -p "$tmp/ext/big"
python3 -c '
import random, sys
r = random.Random(7)
for i in range(24):
    with open(sys.argv[1] + "/f%02d.bin" % i, "wb") as f:
        f.write(bytes(r.getrandbits(8) for _ in range(1 << 20)))
' "$tmp/ext/big"
sed 's|{ from = "host/${arch}", to = "/" },|{ from = "host/${arch}", to = "/" },\n    { from = "big", to = "/big" },|' \
  "$ROOT/examples/hello-extension/extension.lua" >"$tmp/ext/extension.lua"
grep -q '"/big"' "$tmp/ext/extension.lua" || { echo "could not add the big layer"; exit 1; }

# wait_for CMD...: polls (bounded: 30 s) until CMD succeeds
wait_for() {
  i=0
  until "$@"; do
    i=$((i + 1)); [ $i -gt 600 ] && return 1
    python3 -c 'import time; time.sleep(0.05)'
  done
}
# the shell starts background jobs with SIGINT ignored (and hoist keeps an ignored signal ignored):
# run hoist with both signals at their defaults, as a terminal or a CI runner would
fg_signals() { exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGTERM, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"; }
has_temp_layer() { [ -n "$(find "$1" -name '.tmp-*' 2>/dev/null | head -1)" ]; }
leftovers() { find "$@" -name '*.tmp-*' -o -name '.tmp-*' 2>/dev/null; }

for sig in INT TERM; do
  case $sig in INT) want=130 ;; TERM) want=143 ;; esac
  # ---------------------------------------------------------------- while building into a layout
  export TMPDIR=$tmp/tmp-$sig XDG_CACHE_HOME=$tmp/cache-$sig
  mkdir -p "$TMPDIR"
  fg_signals "$HOIST" release "$tmp/ext" --version 1.0.0 --to "oci:$tmp/lay-$sig" >"$tmp/out" 2>"$tmp/err" </dev/null &
  pid=$!
  if wait_for has_temp_layer "$tmp/lay-$sig/blobs"; then
    kill -s "$sig" $pid; wait $pid; rc=$?
    [ $rc -eq $want ] && ok || { ko "SIG$sig while building: exit $rc, want $want"; cat "$tmp/err"; }
    grep -q "interrupted by SIG$sig" "$tmp/err" && ok || { ko "SIG$sig: no message"; cat "$tmp/err"; }
    [ -z "$(leftovers "$tmp/lay-$sig" "$XDG_CACHE_HOME")" ] && ok || { ko "SIG$sig: temp files left"; leftovers "$tmp/lay-$sig" "$XDG_CACHE_HOME"; }
    [ -z "$(ls -A "$TMPDIR")" ] && ok || { ko "SIG$sig: TMPDIR not empty"; ls -la "$TMPDIR"; }
    ! grep -q '1.0.0' "$tmp/lay-$sig/index.json" 2>/dev/null && ok || ko "SIG$sig: 1.0.0 was tagged"
  else
    ko "SIG$sig: the build never started a layer"; kill $pid; wait $pid
  fi
  # ---------------------------------------------------------------- while pushing to a registry
  [ -d "$tmp/reg" ] || { registry_start none "$tmp/reg" >/dev/null || exit 1; }
  px=$(registry_proxy delay "$tmp/reg" "delay-$sig")
  fg_signals "$HOIST" release "$tmp/ext" --version 1.0.0 --to "docker://${px#http://}/sig/$(echo "$sig" | tr A-Z a-z)" \
    >"$tmp/out" 2>"$tmp/err" </dev/null &
  pid=$!
  uploading() { grep -q '"method": "\(PATCH\|PUT\)"' "$tmp/reg/delay-$sig.log" 2>/dev/null; }
  if wait_for uploading; then
    kill -s "$sig" $pid; wait $pid; rc=$?
    [ $rc -eq $want ] && ok || { ko "SIG$sig while pushing: exit $rc, want $want"; cat "$tmp/err"; }
    [ -z "$(ls -A "$TMPDIR")" ] && ok || { ko "SIG$sig while pushing: the staging folder is left in TMPDIR"; ls -la "$TMPDIR"; }
    [ -z "$(leftovers "$XDG_CACHE_HOME")" ] && ok || ko "SIG$sig while pushing: temp files in the cache"
    skopeo inspect --raw --tls-verify=false "docker://$(cat "$tmp/reg/url" | sed 's|http://||')/sig/$(echo "$sig" | tr A-Z a-z):1.0.0" \
      >/dev/null 2>&1 && ko "SIG$sig while pushing: 1.0.0 was tagged" || ok
  else
    ko "SIG$sig: the push never started"; kill $pid; wait $pid
  fi
done

# a layout a killed release left temp files in is swept when it is opened next
mkdir -p "$tmp/swept/blobs/sha256"
"$HOIST" release "$ROOT/examples/hello-extension" --version 0.1.0 --to "oci:$tmp/swept" >/dev/null 2>&1
echo partial >"$tmp/swept/blobs/sha256/.tmp-layer-dead"; touch -d '1 hour ago' "$tmp/swept/blobs/sha256/.tmp-layer-dead"
echo partial >"$tmp/swept/blobs/sha256/abc.tmp-999999-1"
run 0 "$HOIST" release "$ROOT/examples/hello-extension" --version 0.1.1 --to "oci:$tmp/swept"
[ -z "$(leftovers "$tmp/swept")" ] && ok || { ko "stale temp files were not swept"; leftovers "$tmp/swept"; }

finish signals
