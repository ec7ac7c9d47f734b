#!/usr/bin/env bash
# hoist release to a registry uploads each layer while it is built (issue 11, "push while
# building"), checked end to end against the real registry in basic and token modes:
#   - a streamed release has the same index and layer digests as a release of the same inputs
#     into an OCI layout;
#   - layers were PATCHed while being built: hoist's own record (--debug: "first chunk confirmed
#     at F ms" before "built at B ms" of the same layer, and PATCHes accepted while layers were
#     still being built) and the proxy's log (several PATCHes per upload session);
#   - the layer cache is filled: an unchanged re-release streams nothing and sends no layer byte;
#   - chunks dropped or refused with 500 mid-stream are resumed: the PATCHes the registry
#     accepted cover every byte of each session exactly once, in order;
#   - a registry that refuses a chunk for good fails the release with exit 1 and one line naming
#     the layer and the registry's answer; nothing is tagged, nothing is left in TMPDIR or the cache;
#   - HOIST_PUSH_STREAM=0 (no streaming) gives the same digest.
# usage: test_stream.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'for m in basic token; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
. "$ROOT/tests/check.sh"
command -v skopeo >/dev/null || { echo "skopeo is missing"; exit 77; }

# The extension: hello-extension plus a layer big enough to take a while to compress (48 MiB of
# words, a few MiB of noise), so its upload runs while it is built.
cp -r "$ROOT/examples/hello-extension" "$tmp/ext"
mkdir -p "$tmp/ext/data"
python3 - "$tmp/ext/data" <<'PY' || exit 1
import random, sys
r = random.Random(11)
words = [''.join(r.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(r.randint(2, 9))) for _ in range(3000)]
for i in range(48):
    with open(sys.argv[1] + "/text%02d.txt" % i, "w") as f:
        f.write(' '.join(r.choice(words) for _ in range(190000))[:1 << 20])
for i in range(4):
    with open(sys.argv[1] + "/noise%d.bin" % i, "wb") as f:
        f.write(r.randbytes(1 << 20))
PY
sed 's|{ from = "host/${arch}", to = "/" },|{ from = "host/${arch}", to = "/" },\n    { from = "data", to = "/data" },|' \
  "$ROOT/examples/hello-extension/extension.lua" >"$tmp/ext/extension.lua"
grep -q '"/data"' "$tmp/ext/extension.lua" || { echo "could not add the data layer"; exit 1; }

# index and layers of a tag, from a layout (summary LAYOUT TAG OUT) or a registry (rsummary ...)
cat >"$tmp/summary.py" <<'PY'
import base64, hashlib, json, os, sys, urllib.request
ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json'
def summary(raw, fetch):
    ix = json.loads(raw)
    plats = {}
    for m in ix['manifests']:
        p = m['platform']
        plats[p['os'] + '/' + p['architecture']] = [l['digest'] for l in json.loads(fetch(m['digest']))['layers']]
    return {'digest': 'sha256:' + hashlib.sha256(raw).hexdigest(), 'platforms': plats}
if sys.argv[1] == 'layout':
    lay, tag, out = sys.argv[2:5]
    def fetch(d): return open(os.path.join(lay, 'blobs', *d.split(':', 1)), 'rb').read()
    top = json.load(open(os.path.join(lay, 'index.json')))
    d = [m['digest'] for m in top['manifests'] if m.get('annotations', {}).get('org.opencontainers.image.ref.name') == tag][0]
    json.dump(summary(fetch(d), fetch), open(out, 'w'))
else:
    url, repo, tag, user, pw, out = sys.argv[2:8]
    def get(ref):
        # the registry's own auth flow is hoist's business; a token or Basic is enough here
        req = urllib.request.Request(f'{url}/v2/{repo}/manifests/{ref}', headers={'Accept': ACCEPT})
        try:
            return urllib.request.urlopen(req, timeout=30).read()
        except urllib.error.HTTPError as e:
            if e.code != 401: raise
            ch = e.headers['WWW-Authenticate']
            basic = base64.b64encode(f'{user}:{pw}'.encode()).decode()
            if ch.startswith('Basic'):
                req.add_header('Authorization', 'Basic ' + basic)
            else:
                kv = dict(p.split('=', 1) for p in ch[len('Bearer '):].replace('"', '').split(','))
                t = urllib.request.Request(f"{kv['realm']}?service={kv['service']}&scope={kv['scope']}",
                                           headers={'Authorization': 'Basic ' + basic})
                req.add_header('Authorization', 'Bearer ' + json.load(urllib.request.urlopen(t, timeout=30))['token'])
            return urllib.request.urlopen(req, timeout=30).read()
    json.dump(summary(get(tag), get), open(out, 'w'))
PY

# the reference: the same inputs released into an OCI layout
XDG_CACHE_HOME=$tmp/cache-layout run 0 "$HOIST" release "$tmp/ext" --version 1.0.0 --to "oci:$tmp/layout"
python3 "$tmp/summary.py" layout "$tmp/layout" 1.0.0 "$tmp/layout.json" && ok || ko "cannot read the layout"

# overlap FILE: hoist's --debug record shows a layer whose first chunk the registry confirmed
# before that layer was built, and PATCHes accepted while layers were being built
overlap() {
  python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1], errors='replace').read().splitlines()
rec = [re.search(r'debug: streamed (sha256:\w+) \((.*)\): opened at (-?\d+) ms, built at (-?\d+) ms, '
                 r'first chunk confirmed at (-?\d+) ms, (\w+) at (-?\d+) ms \((\d+) PATCH', l) for l in lines]
rec = [m for m in rec if m]
assert rec, 'no "streamed" debug lines'
early = [m for m in rec if 0 <= int(m.group(5)) < int(m.group(4))]
assert early, 'no layer had a chunk confirmed before it was built: ' + '; '.join(m.group(0) for m in rec)
data = [m for m in rec if "'data' -> /data" in m.group(2)]
assert data and int(data[0].group(8)) >= 2, 'the data layer went in fewer than 2 PATCHes'
tot = [re.search(r'(\d+) of (\d+) PATCHes accepted while layers were still being built', l) for l in lines]
tot = [m for m in tot if m]
assert tot and int(tot[0].group(1)) >= 1, 'no PATCH accepted while building'
print('%d layers streamed; e.g. %s: first chunk confirmed at %s ms, built at %s ms; %s of %s PATCHes while building'
      % (len(rec), early[0].group(2), early[0].group(5), early[0].group(4), tot[0].group(1), tot[0].group(2)))
PY
}

# exact LOG REPO: per upload session, the PATCHes the registry got are 0..N-1 once each, in order;
# prints the sessions, PATCHes and faults seen
exact() {
  python3 - "$1" "$2" <<'PY'
import json, sys
sessions, faults = {}, 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e['method'] != 'PATCH' or f"/v2/{sys.argv[2]}/" not in e['path']:
        continue
    if e['fault']:
        faults += 1
        continue
    if e['status'] != 202:
        continue
    a, b = map(int, e['range'].split('-'))
    nxt = sessions.get(e['path'], 0)
    assert a == nxt and b >= a, 'session %s: PATCH %s after %d bytes: a range sent twice or skipped' % (e['path'][-36:], e['range'], nxt)
    sessions[e['path']] = b + 1
print('%d sessions, %d PATCH faults' % (len(sessions), faults))
assert sessions, 'no PATCH reached the registry'
PY
}

# pushed MODE REPO TAG: the registry's index and layers of REPO:TAG are the layout's
pushed() {
  python3 "$tmp/summary.py" registry "$(cat "$tmp/$1/url")" "$2" "$3" hoist "$(cat "$tmp/$1/password")" "$tmp/pushed.json" &&
    python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:3]); assert a==b, (a,b)' \
      "$tmp/pushed.json" "$tmp/layout.json" && ok || ko "$1: $2:$3 differs from the layout release"
}

notag() {  # notag MODE REPO: the repository has no tag
  if skopeo list-tags --tls-verify=false --creds "hoist:$(cat "$tmp/$1/password")" \
      "docker://$(sed 's|http://||' "$tmp/$1/url")/$2" >"$tmp/tags" 2>&1 && grep -q '"Tags": \[[^]]' "$tmp/tags"; then
    ko "$1: $2 has tags after a failed release"; cat "$tmp/tags"
  else ok; fi
}

for mode in basic token; do
  registry_start "$mode" "$tmp/$mode" >/dev/null || exit 1
  pw=$(cat "$tmp/$mode/password")
  px=$(registry_proxy none "$tmp/$mode") || exit 1
  export TMPDIR=$tmp/tmp-$mode
  mkdir -p "$TMPDIR"
  cache=$tmp/cache-$mode

  # ---- a cold release, streamed: same digests as the layout, uploaded while built. One
  # compression thread (the bytes do not depend on it): the build then takes a few times the
  # first PATCH's round trip even when other tests load the machine, so the overlap checked
  # below does not depend on how busy the CI runner is.
  HOIST_THREADS=1 XDG_CACHE_HOME=$cache run 0 "$HOIST" --debug --json release "$tmp/ext" --version 1.0.0 \
    --to "docker://${px#http://}/acme/stream" --creds "hoist:$pw"
  cp "$tmp/out" "$tmp/cold.json"; cp "$tmp/err" "$tmp/cold.err"
  py cold.json "assert r['uploaded_layer_bytes'] > 0 and r['tags'] == ['1.0.0'], r"
  python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["digest"]; b=json.load(open(sys.argv[2]))["digest"]; assert a==b, (a,b)' \
    "$tmp/cold.json" "$tmp/layout.json" && ok || ko "$mode: the streamed release's index differs from the layout's"
  pushed "$mode" acme/stream 1.0.0
  if s=$(overlap "$tmp/cold.err"); then ok; echo "$mode: $s"; else ko "$mode: overlap: $s"; fi
  if s=$(exact "$tmp/$mode/proxy-none.log" acme/stream); then ok; else ko "$mode: $s"; fi
  [ -z "$(ls -A "$TMPDIR")" ] && ok || { ko "$mode: the staging folder is left in TMPDIR"; ls -la "$TMPDIR"; }
  [ -z "$(find "$cache" -name '*.tmp-*' -o -name '.tmp-*')" ] && ok || ko "$mode: temp files in the cache"
  # the cache holds every layer that was built (a record and its blob)
  nrec=$(find "$cache/hoist/layers" -name '*.json' | wc -l)
  [ "$nrec" -ge 5 ] && ok || ko "$mode: $nrec layer records in the cache, want 5 or more"

  # ---- warm: the cache serves every layer, nothing is streamed, no layer byte sent
  before=$(grep -c '"PATCH"' "$tmp/$mode/proxy-none.log")
  XDG_CACHE_HOME=$cache run 0 "$HOIST" --debug --json release "$tmp/ext" --version 1.0.1 \
    --to "docker://${px#http://}/acme/stream" --creds "hoist:$pw"
  py out "assert r['uploaded_layer_bytes'] == 0, r"
  grep -q 'debug: streamed' "$tmp/err" && ko "$mode: the warm release streamed a layer" || ok
  [ "$(grep -c '"PATCH"' "$tmp/$mode/proxy-none.log")" = "$before" ] && ok || ko "$mode: the warm release sent PATCHes"

  # ---- a registry that refuses a chunk for good: exit 1, one line naming the layer and the answer
  pd=$(registry_proxy patch-denied "$tmp/$mode") || exit 1
  XDG_CACHE_HOME=$tmp/cache-denied-$mode run 1 "$HOIST" release "$tmp/ext" --version 1.0.0 \
    --to "docker://${pd#http://}/acme/denied" --creds "hoist:$pw"
  sed 's/^/    /' "$tmp/err"
  expect err "^hoist: .*layer .*\\('[^']+' -> /[^)]*\\).*registry '.*' refused a blob chunk: DENIED: fault proxy: quota exceeded"
  [ "$(grep -c '^hoist:' "$tmp/err")" = 1 ] && ok || { ko "$mode: not one error line"; cat "$tmp/err"; }
  grep -q -F -e "$pw" "$tmp/err" "$tmp/out" && ko "$mode: the password in the output" || ok
  notag "$mode" acme/denied
  [ -z "$(ls -A "$TMPDIR")" ] && ok || { ko "$mode: the staging folder is left after a failure"; ls -la "$TMPDIR"; }
  [ -z "$(find "$tmp/cache-denied-$mode" -name '*.tmp-*' -o -name '.tmp-*' 2>/dev/null)" ] && ok || ko "$mode: temp files in the cache after a failure"
  registry_stop "$tmp/$mode" >/dev/null 2>&1
done

# ---- chunks lost or refused mid-stream (token mode): resumed, every byte once, same digest
mode=token
registry_start token "$tmp/$mode" >/dev/null || exit 1
pw=$(cat "$tmp/$mode/password")
for pattern in drop-patch patch-500; do
  p=$(registry_proxy "$pattern" "$tmp/$mode") || exit 1
  XDG_CACHE_HOME=$tmp/cache-$pattern run 0 "$HOIST" --json release "$tmp/ext" --version 1.0.0 \
    --to "docker://${p#http://}/acme/$pattern" --creds "hoist:$pw"
  pushed "$mode" "acme/$pattern" 1.0.0
  if s=$(exact "$tmp/$mode/proxy-$pattern.log" "acme/$pattern"); then
    case $s in *" 0 PATCH faults") ko "$pattern: no PATCH failed: the case proves nothing ($s)" ;; *) ok; echo "$pattern: $s" ;; esac
  else ko "$pattern: $s"; fi
done

# ---- without streaming (HOIST_PUSH_STREAM=0): the same release
XDG_CACHE_HOME=$tmp/cache-nostream HOIST_PUSH_STREAM=0 run 0 "$HOIST" --debug release "$tmp/ext" --version 1.0.0 \
  --to "docker://$(sed 's|http://||' "$tmp/$mode/url")/acme/nostream" --creds "hoist:$pw"
grep -q 'debug: streamed' "$tmp/err" && ko "HOIST_PUSH_STREAM=0 streamed" || ok
pushed "$mode" acme/nostream 1.0.0

# ---- push progress inside a blob (issue 10): over a 4 MB/s link (16 MiB: more than the sockets
# buffer), put_blobs reports bytes as curl sends them (ticks without a job), not only when a blob
# ends
sl=$(HOIST_PROXY_ARGS="--rate 4000000" registry_proxy none "$tmp/$mode" slow) || exit 1
python3 -c 'import random,sys; open(sys.argv[1],"wb").write(random.Random(5).randbytes(16 << 20))' "$tmp/slow.bin"
cat >"$tmp/ticks.lua" <<'LUA'
local registry, oci = require("hoist.registry"), require("hoist.oci")
local host, pw, path = arg[1], arg[2], arg[3]
local size = 16 << 20
local c = assert(registry.connect(host, { username = "hoist", password = pw }))
local ticks, partial, last, ended = 0, 0, 0, nil
assert(c:put_blobs("acme/ticks", { { digest = oci.digest_file(path), path = path, size = size } }, {
  progress = function(p)
    assert(p.done_bytes >= last, "done_bytes went down: " .. p.done_bytes .. " after " .. last)
    last = p.done_bytes
    if p.job then ended = p else
      ticks = ticks + 1
      assert(p.digest == nil and p.done == 0 and p.total_bytes == size, "a tick names no job")
      if p.done_bytes > 0 and p.done_bytes < size then partial = partial + 1 end
    end
  end }))
assert(ended and ended.job == 1 and ended.done_bytes == size and ended.outcome == "uploaded", "the job's end")
assert(partial >= 2, "ticks with part of the blob sent: " .. partial .. " of " .. ticks)
print("ticks " .. ticks .. ", " .. partial .. " with part of the blob")
LUA
if s=$("$HOIST" run "$tmp/ticks.lua" "${sl#http://}" "$pw" "$tmp/slow.bin" 2>&1); then ok; echo "progress: $s"
else ko "progress inside a blob: $s"; fi

finish stream
