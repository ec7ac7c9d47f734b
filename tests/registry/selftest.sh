#!/bin/sh
# Proves the registry test infrastructure works, with independent tools only (skopeo, curl):
#   - registry.sh in each auth mode (none, basic, token): skopeo pushes a small OCI layout made
#     here, reads it back; a wrong password fails; in token mode the issuer logged a push scope,
#     an x5c-headed token works too, and the OAuth2 POST (password, then refresh_token) works;
#   - fault_proxy.py: skopeo pushes through a pass-through proxy; each fault pattern does to curl
#     exactly what it promises (status codes, error bodies, Retry-After, dropped connections, a
#     body cut in half, the delay), and Location headers are rewritten to the proxy.
# Prints "N passed, M failed" last; exits 1 on a failure, 77 when a tool is missing.
# usage: selftest.sh      (HOIST_TEST_KEEP=1 keeps the work folder; HOIST_TEST_VERBOSE=1 says more)
here=$(cd "$(dirname "$0")" && pwd)
HOIST_REGISTRY_TOOLS=$here
export HOIST_REGISTRY_TOOLS
# shellcheck source=registry.sh
. "$here/registry.sh"
export LC_ALL=C.UTF-8

for t in docker-registry skopeo curl python3 openssl htpasswd; do
  command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done

tmp=$(mktemp -d)
cleanup() {
  for d in "$tmp"/reg-*; do [ -d "$d" ] && registry_stop "$d"; done
  if [ -n "${HOIST_TEST_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

passed=0 failed=0
pass() { passed=$((passed + 1)); [ -n "${HOIST_TEST_VERBOSE:-}" ] && echo "ok: $*"; return 0; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check NAME CMD... : CMD succeeds
check() { _n=$1; shift; if "$@"; then pass "$_n"; else fail "$_n"; fi; }
# eq NAME GOT WANT
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }

# skopeo, hermetic: its own policy, no stray credentials, no shared blob-info cache
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$tmp/policy.json"
export REGISTRY_AUTH_FILE="$tmp/auth.json" HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
sko() { skopeo --policy "$tmp/policy.json" "$@"; }

# ---------------------------------------------------------------- a small OCI layout
# One platform image: a gzip layer holding hello.txt and 256 KiB of (deterministic) noise, an OCI
# config, an OCI manifest, tagged "1" in index.json. Prints the manifest digest and the layer digest.
python3 - "$tmp/layout" >"$tmp/layout.digests" <<'PY' || { echo "FAIL: cannot build the OCI layout"; exit 1; }
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
os.makedirs(out + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(out + "/blobs/sha256/" + d, "wb") as f:
        f.write(data)
    return "sha256:" + d
noise = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(8192))
tb = io.BytesIO()
with tarfile.open(fileobj=tb, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for name, data in (("hello.txt", b"hello from tests/registry/selftest.sh\n"), ("noise.bin", noise)):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
        t.addfile(ti, io.BytesIO(data))
tar = tb.getvalue()
gz = gzip.compress(tar, mtime=0)
layer = blob(gz)
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Labels": {"org.example.selftest": "1"}},
                     "rootfs": {"type": "layers",
                                "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}},
                    separators=(",", ":"), sort_keys=True).encode()
cfg = blob(config)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": cfg, "size": len(config)},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                              "digest": layer, "size": len(gz)}]},
                 separators=(",", ":")).encode()
md = blob(man)
with open(out + "/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man),
        "annotations": {"org.opencontainers.image.ref.name": "1"}}]}, f)
with open(out + "/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
print(md, layer, len(gz))
PY
read -r MANIFEST LAYER LAYER_SIZE <"$tmp/layout.digests"
SRC="oci:$tmp/layout:1"

# json_get FILE EXPR : print a Python expression over the JSON document `d` in FILE
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }

# ---------------------------------------------------------------- each auth mode
for mode in none basic token; do
  dir=$tmp/reg-$mode
  if ! registry_start "$mode" "$dir" >/dev/null; then fail "$mode: registry.sh start"; continue; fi
  pass "$mode: registry.sh start"
  url=$(cat "$dir/url"); host=${url#http://}
  check "$mode: url is a loopback http URL" expr "$url" : 'http://127\.0\.0\.1:[0-9][0-9]*$' >/dev/null
  creds='' pw=''
  if [ "$mode" != none ]; then pw=$(cat "$dir/password"); creds=hoist:$pw; fi

  if sko copy -q --dest-tls-verify=false ${creds:+--dest-creds "$creds"} "$SRC" \
       "docker://$host/test/img:1" >"$tmp/out" 2>&1; then
    pass "$mode: skopeo copy oci: -> docker://"
  else
    fail "$mode: skopeo copy oci: -> docker://"; cat "$tmp/out"
  fi
  sko inspect --tls-verify=false ${creds:+--creds "$creds"} "docker://$host/test/img:1" >"$tmp/inspect.json" 2>"$tmp/out"
  eq "$mode: skopeo inspect digest" "$(json_get "$tmp/inspect.json" 'd["Digest"]')" "$MANIFEST"
  eq "$mode: skopeo inspect label" "$(json_get "$tmp/inspect.json" 'd["Labels"]["org.example.selftest"]')" 1
  # And back into a layout: the same manifest, the same layer bytes.
  if sko copy -q --src-tls-verify=false ${creds:+--src-creds "$creds"} "docker://$host/test/img:1" \
       "oci:$tmp/back-$mode:1" >"$tmp/out" 2>&1 &&
     cmp -s "$tmp/layout/blobs/sha256/${LAYER#sha256:}" "$tmp/back-$mode/blobs/sha256/${LAYER#sha256:}" &&
     cmp -s "$tmp/layout/blobs/sha256/${MANIFEST#sha256:}" "$tmp/back-$mode/blobs/sha256/${MANIFEST#sha256:}"; then
    pass "$mode: skopeo copy back gives the same manifest and layer"
  else
    fail "$mode: skopeo copy back"; cat "$tmp/out"
  fi

  if [ "$mode" = none ]; then
    eq "none: /v2/ answers 200" "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/")" 200
    continue  # kept running for the fault proxy section
  fi

  # Wrong password, no password: refused.
  if sko copy -q --dest-tls-verify=false --dest-creds "hoist:not-$pw" "$SRC" \
       "docker://$host/test/img:2" >"$tmp/out" 2>&1; then
    fail "$mode: push with a wrong password succeeded"
  elif grep -qi -e unauthorized -e 'authentication' "$tmp/out"; then
    pass "$mode: push with a wrong password fails (auth error)"
  else
    fail "$mode: push with a wrong password failed for another reason"; cat "$tmp/out"
  fi
  if sko inspect --tls-verify=false --creds "hoist:not-$pw" "docker://$host/test/img:1" >"$tmp/out" 2>&1; then
    fail "$mode: inspect with a wrong password succeeded"
  else
    pass "$mode: inspect with a wrong password fails"
  fi
  if sko inspect --tls-verify=false --no-creds "docker://$host/test/img:1" >"$tmp/out" 2>&1; then
    fail "$mode: anonymous inspect succeeded"
  else
    pass "$mode: anonymous inspect fails"
  fi
  if sko inspect --tls-verify=false --creds "$creds" "docker://$host/test/img:2" >"$tmp/out" 2>&1; then
    fail "$mode: the refused push created tag 2"
  else
    check "$mode: the refused push created no tag" grep -qi 'manifest unknown' "$tmp/out"
  fi

  if [ "$mode" = basic ]; then
    eq "basic: curl -u wrong /v2/ -> 401" "$(curl -s -u "hoist:not-$pw" -o /dev/null -w '%{http_code}' "$url/v2/")" 401
    eq "basic: curl -u right /v2/ -> 200" "$(curl -s -u "$creds" -o /dev/null -w '%{http_code}' "$url/v2/")" 200
    curl -s -D "$tmp/h" -o /dev/null "$url/v2/"
    check "basic: challenge is Basic" grep -qi '^www-authenticate: basic realm=' "$tmp/h"
    # shellcheck disable=SC2016  # a literal $2y$
    check "basic: htpasswd holds a bcrypt hash" grep -q '^hoist:\$2y\$' "$dir/htpasswd"
  else
    iss=$(cat "$dir/issuer.url")
    curl -s -D "$tmp/h" -o /dev/null "$url/v2/"
    check "token: challenge is Bearer with the issuer's realm" \
      grep -qi "^www-authenticate: bearer realm=\"$iss/token\",service=\"hoist-test-registry\"" "$tmp/h"
    log=$dir/token.log
    check "token: issuer log shows the push scope granted to hoist" python3 - "$log" <<'PY'
import json, sys
ok = any(e["status"] == 200 and e["user"] == "hoist" and "repository:test/img:pull,push" in e["scopes"]
         and {"type": "repository", "name": "test/img", "actions": ["pull", "push"]} in e["granted"]
         for e in map(json.loads, open(sys.argv[1])))
sys.exit(0 if ok else 1)
PY
    check "token: issuer log shows the refused wrong password" grep -q '"status": 401' "$log"
    if grep -q -F -e "$pw" -e 'eyJ' "$log"; then fail "token: issuer log holds a secret"; else pass "token: issuer log holds no password or token"; fi
    code=$(curl -s -u "hoist:not-$pw" -o "$tmp/body" -w '%{http_code}' "$iss/token?service=hoist-test-registry&scope=repository:test/img:pull")
    eq "token: issuer, wrong password -> 401" "$code" 401
    eq "token: issuer, wrong password -> JSON error" "$(json_get "$tmp/body" 'd["errors"][0]["code"]')" UNAUTHORIZED
    # GET flow by hand: two scopes, then the token on the registry.
    curl -s -u "$creds" -o "$tmp/tok.json" \
      "$iss/token?service=hoist-test-registry&scope=repository:test/img:pull&scope=repository:other/repo:pull,push"
    eq "token: GET returns token == access_token" "$(json_get "$tmp/tok.json" 'd["token"] == d["access_token"] and d["expires_in"] == 300')" True
    eq "token: JWT claims (aud string, iss, access for both scopes)" "$(python3 - "$tmp/tok.json" <<'PY'
import base64, json, sys
t = json.load(open(sys.argv[1]))["token"]
h, c, _ = t.split(".")
dec = lambda s: json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
h, c = dec(h), dec(c)
print(h["alg"], "kid" in h, c["iss"], c["aud"], c["sub"],
      sorted((a["name"], ",".join(a["actions"])) for a in c["access"]),
      all(k in c for k in ("exp", "nbf", "iat", "jti")))
PY
)" "RS256 True hoist-test-issuer hoist-test-registry hoist [('other/repo', 'pull,push'), ('test/img', 'pull')] True"
    tok=$(json_get "$tmp/tok.json" 'd["token"]')
    eq "token: bearer (kid) reads tags" "$(curl -s -H "Authorization: Bearer $tok" "$url/v2/test/img/tags/list")" '{"name":"test/img","tags":["1"]}'
    eq "token: pull-only token cannot start an upload" \
      "$(curl -s -X POST -H "Authorization: Bearer $tok" -o /dev/null -w '%{http_code}' "$url/v2/test/img/blobs/uploads/")" 401
    # The x5c variant: a second issuer, same key, the certificate in the header.
    xd=$tmp/x5c; mkdir -p "$xd"
    _rs_spawn "$dir" issuer-x5c "$xd/err" python3 "$here/token_issuer.py" --x5c --port-file "$xd/port" \
      --key "$dir/token/key.pem" --cert "$dir/token/cert.pem" --issuer hoist-test-issuer \
      --service hoist-test-registry --user hoist --password-file "$dir/password"
    if _rs_wait_file "$xd/port" "$_rs_pid" "x5c issuer"; then
      xt=$(curl -s -u "$creds" "http://127.0.0.1:$(cat "$xd/port")/token?service=hoist-test-registry&scope=repository:test/img:pull" |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
      eq "token: bearer (x5c) reads tags" "$(curl -s -H "Authorization: Bearer $xt" "$url/v2/test/img/tags/list")" '{"name":"test/img","tags":["1"]}'
    else
      fail "token: x5c issuer did not start"
    fi
    # OAuth2 POST: password grant with access_type=offline gives a refresh token; the refresh grant
    # gives a token that works; a made-up refresh token is refused.
    curl -s -o "$tmp/post.json" --data-urlencode grant_type=password --data-urlencode username=hoist \
      --data-urlencode "password=$pw" --data-urlencode service=hoist-test-registry \
      --data-urlencode client_id=selftest --data-urlencode access_type=offline \
      --data-urlencode "scope=repository:test/img:pull" "$iss/token"
    rt=$(json_get "$tmp/post.json" 'd["refresh_token"]')
    eq "token: POST password grant returns access_token and refresh_token" \
      "$(json_get "$tmp/post.json" 'len(d["access_token"]) > 100 and len(d["refresh_token"]) > 20')" True
    curl -s -o "$tmp/post2.json" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt" \
      --data-urlencode service=hoist-test-registry --data-urlencode client_id=selftest \
      --data-urlencode "scope=repository:test/img:pull" "$iss/token"
    at=$(json_get "$tmp/post2.json" 'd["access_token"]')
    eq "token: refresh-grant token reads tags" "$(curl -s -H "Authorization: Bearer $at" "$url/v2/test/img/tags/list")" '{"name":"test/img","tags":["1"]}'
    # scope-widen: the 2nd request with a Bearer token gets 401 insufficient_scope naming a wider
    # scope, with the registry's realm (learnt from the 401 it passed on); the others pass.
    if swx=$(registry_proxy scope-widen "$dir"); then
      curl -s -o /dev/null "$swx/v2/test/img/tags/list"
      r=''
      for i in 1 2 3; do
        r="$r $(curl -s -D "$tmp/h$i" -H "Authorization: Bearer $tok" -o /dev/null -w '%{http_code}' "$swx/v2/test/img/tags/list")"
      done
      eq "scope-widen: Bearer requests 1-3" "${r# }" "200 401 200"
      eq "scope-widen: the widened challenge" "$(tr -d '\r' <"$tmp/h2" | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: //p')" \
        "Bearer realm=\"$iss/token\",service=\"hoist-test-registry\",scope=\"repository:test/img:pull repository:hoist-test/extra:pull\",error=\"insufficient_scope\""
    else
      fail "scope-widen: start"
    fi
    eq "token: unknown refresh token -> 401" "$(curl -s -o "$tmp/body" -w '%{http_code}' -d grant_type=refresh_token -d refresh_token=made-up -d service=hoist-test-registry -d client_id=selftest "$iss/token")" 401
    eq "token: POST error body" "$(json_get "$tmp/body" 'd["error"]')" invalid_grant
  fi

  pids=$(awk '{ print $1 }' "$dir/pids")
  check "$mode: registry.sh stop" registry_stop "$dir"
  alive=
  for p in $pids; do _rs_alive "$p" && _rs_ours "$p" "$dir" && alive="$alive $p"; done  # (a recycled PID is not ours)
  eq "$mode: nothing left running after stop" "$alive" ""
done

# ---------------------------------------------------------------- the fault proxy (in front of "none")
dir=$tmp/reg-none
if [ ! -s "$dir/url" ]; then
  fail "fault proxy: no registry to stand in front of"
else
  url=$(cat "$dir/url")
  ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
  # codes PROXY N PATH : the status codes of N sequential GETs, space-separated
  codes() {
    _c='' _i=0
    while [ "$_i" -lt "$2" ]; do
      _c="$_c $(curl -s -H "$ACCEPT" -o /dev/null -w '%{http_code}' "$1$3")"
      _i=$((_i + 1))
    done
    echo "${_c# }"
  }
  proxy() { registry_proxy "$1" "$dir" >/dev/null && cat "$dir/proxy-$1.url"; }

  # Pass-through: a whole skopeo push and pull through it.
  if px=$(proxy none); then
    if sko copy -q --dest-tls-verify=false "$SRC" "docker://${px#http://}/via/proxy:1" >"$tmp/out" 2>&1 &&
       sko inspect --tls-verify=false "docker://${px#http://}/via/proxy:1" >"$tmp/inspect.json" 2>&1; then
      eq "proxy none: skopeo push + inspect through it" "$(json_get "$tmp/inspect.json" 'd["Digest"]')" "$MANIFEST"
    else
      fail "proxy none: skopeo through it"; cat "$tmp/out"
    fi
    eq "proxy none: state counts every request, no fault" \
      "$(json_get "$dir/proxy-none.state" 'd["requests"] > 5 and d["requests"] == d["forwarded"] and d["faults"] == {}')" True
    # Location rewrite: a request naming the upstream in Host gets a Location at the upstream from
    # the registry; the proxy points it back at itself.
    loc=$(curl -s -X POST -H "Host: ${url#http://}" -D - -o /dev/null "$px/v2/via/proxy/blobs/uploads/" |
          tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    check "proxy none: Location rewritten to the proxy ($loc)" expr "$loc" : "$px/v2/via/proxy/blobs/uploads/" >/dev/null
  else
    fail "proxy none: start"
  fi

  # fail-every-3: requests 3 and 6 get 503 with a registry error body.
  if px=$(proxy fail-every-3); then
    eq "fail-every-3: statuses of 6 GETs" "$(codes "$px" 6 /v2/test/img/manifests/1)" "200 200 503 200 200 503"
    curl -s -H "$ACCEPT" -o /dev/null "$px/v2/test/img/manifests/1"
    curl -s -H "$ACCEPT" -o /dev/null "$px/v2/test/img/manifests/1"
    code=$(curl -s -o "$tmp/body" -w '%{http_code} %{content_type}' "$px/v2/test/img/manifests/1")
    eq "fail-every-3: 9th request is a 503 JSON" "$code" "503 application/json; charset=utf-8"
    eq "fail-every-3: error code UNAVAILABLE" "$(json_get "$tmp/body" 'd["errors"][0]["code"]')" UNAVAILABLE
    eq "fail-every-3: HEAD and POST counted too" "$(curl -s -I -H "$ACCEPT" -o /dev/null -w '%{http_code}' "$px/v2/test/img/manifests/1") $(curl -s -X POST -o /dev/null -w '%{http_code}' "$px/v2/test/img/blobs/uploads/") $(curl -s -X POST -o /dev/null -w '%{http_code}' "$px/v2/test/img/blobs/uploads/")" \
      "200 202 503"
    eq "fail-every-3: state" "$(json_get "$dir/proxy-fail-every-3.state" '(d["requests"], d["faults"])')" "(12, {'503': 4})"
  else
    fail "fail-every-3: start"
  fi

  # drop-mid: the 3rd response with a body is cut in half: status and Content-Length of the whole,
  # then half of the bytes, then the connection closes (curl: exit 18, partial file).
  if px=$(proxy drop-mid); then
    blob=$px/v2/test/img/blobs/$LAYER
    r1=$(curl -s -o "$tmp/b1" -w '%{http_code} %{size_download}' "$blob"; echo " $?")
    r2=$(curl -s -o "$tmp/b2" -w '%{http_code} %{size_download}' "$blob"; echo " $?")
    r3=$(curl -s -D "$tmp/h3" -o "$tmp/b3" -w '%{http_code} %{size_download}' "$blob"; echo " $?")
    r4=$(curl -s -o "$tmp/b4" -w '%{http_code} %{size_download}' "$blob"; echo " $?")
    eq "drop-mid: responses 1, 2, 4 whole" "$r1|$r2|$r4" "200 $LAYER_SIZE 0|200 $LAYER_SIZE 0|200 $LAYER_SIZE 0"
    eq "drop-mid: response 3 cut at half (curl exit 18)" "$r3" "200 $((LAYER_SIZE / 2)) 18"
    eq "drop-mid: response 3 announced the whole length" \
      "$(tr -d '\r' <"$tmp/h3" | sed -n 's/^[Cc]ontent-[Ll]ength: //p')" "$LAYER_SIZE"
    check "drop-mid: the half sent is the start of the blob" cmp -s "$tmp/b3" "$tmp/b1" -n "$((LAYER_SIZE / 2))"
    check "drop-mid: the whole ones are the blob" cmp -s "$tmp/b1" "$tmp/layout/blobs/sha256/${LAYER#sha256:}"
    # HEADs have no body: not counted, never cut.
    eq "drop-mid: HEADs pass and are not counted" \
      "$(for _ in 1 2 3; do curl -s -I -o /dev/null -w '%{http_code} ' "$blob"; done)" "200 200 200 "
    r5=$(curl -s -o /dev/null -w '%{http_code}' "$blob"; echo " $?")
    eq "drop-mid: 5th bodied response whole" "$r5" "200 0"
    r6=$(curl -s -H "$ACCEPT" -o /dev/null -w '%{http_code}' "$px/v2/test/img/manifests/1"; echo " $?")
    eq "drop-mid: 6th bodied response (a manifest) cut" "$r6" "200 18"
  else
    fail "drop-mid: start"
  fi

  # 429: every other request, with Retry-After: 1 and a TOOMANYREQUESTS body.
  if px=$(proxy 429); then
    eq "429: statuses of 4 GETs" "$(codes "$px" 4 /v2/test/img/manifests/1)" "200 429 200 429"
    curl -s -o /dev/null "$px/v2/"
    curl -s -D "$tmp/h" -o "$tmp/body" "$px/v2/"
    check "429: Retry-After: 1" grep -qi '^retry-after: 1' "$tmp/h"
    eq "429: error code" "$(json_get "$tmp/body" 'd["errors"][0]["code"]')" TOOMANYREQUESTS
  else
    fail "429: start"
  fi

  # drop-before: request 3 is closed unanswered (curl: empty reply, exit 52), never forwarded.
  if px=$(proxy drop-before); then
    r=''
    for _ in 1 2 3 4; do r="$r $(curl -s -o /dev/null -w '%{http_code}' "$px/v2/test/img/tags/list"; echo ":$?")"; done
    eq "drop-before: 4 GETs" "${r# }" "200:0 200:0 000:52 200:0"
    eq "drop-before: state" "$(json_get "$dir/proxy-drop-before.state" '(d["forwarded"], d["faults"])')" "(3, {'drop-before': 1})"
  else
    fail "drop-before: start"
  fi

  # writes-fail: POST/PUT/PATCH get 500 (never reach the registry), GET/HEAD pass.
  if px=$(proxy writes-fail); then
    code=$(curl -s -X POST -o "$tmp/body" -w '%{http_code}' "$px/v2/test/img/blobs/uploads/")
    eq "writes-fail: POST -> 500" "$code" 500
    eq "writes-fail: error body" "$(json_get "$tmp/body" 'd["errors"][0]["code"]')" UNKNOWN
    eq "writes-fail: PUT manifest -> 500" "$(curl -s -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
      --data-binary "@$tmp/layout/blobs/sha256/${MANIFEST#sha256:}" -o /dev/null -w '%{http_code}' "$px/v2/test/img/manifests/wf")" 500
    eq "writes-fail: PATCH -> 500" "$(curl -s -X PATCH --data-binary x -o /dev/null -w '%{http_code}' "$px/v2/test/img/blobs/uploads/x")" 500
    eq "writes-fail: GET, HEAD pass" "$(codes "$px" 1 /v2/test/img/manifests/1) $(curl -s -I -H "$ACCEPT" -o /dev/null -w '%{http_code}' "$px/v2/test/img/manifests/1")" "200 200"
    eq "writes-fail: the tag was never written" "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/test/img/manifests/wf")" 404
  else
    fail "writes-fail: start"
  fi

  # drop-patch: PATCHes 2, 5, ... are read half-way and dropped (curl: the upload fails), never
  # forwarded; every answer closes its connection; the log has each PATCH's length and range.
  if px=$(proxy drop-patch); then
    head -c 4000 /dev/zero >"$tmp/4k"
    r=''
    for i in 1 2 3; do
      r="$r $(curl -s -X PATCH -H "Content-Range: 0-3999" --data-binary "@$tmp/4k" -D "$tmp/h$i" -o /dev/null \
        -w '%{http_code}' "$px/v2/test/img/blobs/uploads/none"; echo ":$?")"
    done
    check "drop-patch: PATCH 1 and 3 answered, 2 dropped (${r# })" expr "${r# }" : '404:0 000:[0-9]* 404:0$' >/dev/null
    check "drop-patch: answers close their connection" grep -qi '^connection: close' "$tmp/h1"
    eq "drop-patch: log" "$(python3 -c 'import json,sys; print([(e["method"], e["fault"], e["length"], e["range"]) for e in map(json.loads, open(sys.argv[1]))])' "$dir/proxy-drop-patch.log")" \
      "[('PATCH', None, 4000, '0-3999'), ('PATCH', 'drop-patch', 4000, '0-3999'), ('PATCH', None, 4000, '0-3999')]"
  else
    fail "drop-patch: start"
  fi

  # patch-500: PATCHes 2, 5, ... get 500 UNKNOWN after their body was read; other methods pass.
  if px=$(proxy patch-500); then
    r=''
    for i in 1 2 3 4 5; do r="$r $(curl -s -X PATCH --data-binary x -o /dev/null -w '%{http_code}' "$px/v2/test/img/blobs/uploads/none")"; done
    eq "patch-500: 5 PATCHes" "${r# }" "404 500 404 404 500"
    eq "patch-500: GET passes" "$(codes "$px" 1 /v2/test/img/manifests/1)" 200
  else
    fail "patch-500: start"
  fi

  # chunk-min: a 202 to POST carries OCI-Chunk-Min-Length (2 MiB by default); nothing else changes.
  if px=$(proxy chunk-min); then
    curl -s -X POST -D "$tmp/h" -o /dev/null "$px/v2/test/img/blobs/uploads/"
    check "chunk-min: POST 202 announces 2097152" grep -qi '^oci-chunk-min-length: 2097152' "$tmp/h"
    curl -s -D "$tmp/h" -o /dev/null "$px/v2/"
    if grep -qi '^oci-chunk-min-length' "$tmp/h"; then fail "chunk-min: GET got the header"; else pass "chunk-min: only on POST"; fi
  else
    fail "chunk-min: start"
  fi

  # head-405: a manifest HEAD gets 405 (never forwarded); blob HEADs and manifest GETs pass.
  if px=$(proxy head-405); then
    eq "head-405: manifest HEAD, blob HEAD, manifest GET" \
      "$(curl -s -I -H "$ACCEPT" -o /dev/null -w '%{http_code}' "$px/v2/test/img/manifests/1") $(curl -s -I -o /dev/null -w '%{http_code}' "$px/v2/test/img/blobs/$LAYER") $(codes "$px" 1 /v2/test/img/manifests/1)" \
      "405 200 200"
  else
    fail "head-405: start"
  fi

  # delete-405: DELETE gets 405 UNSUPPORTED (deletes switched off), never forwarded.
  if px=$(proxy delete-405); then
    code=$(curl -s -X DELETE -o "$tmp/body" -w '%{http_code}' "$px/v2/test/img/manifests/$MANIFEST")
    eq "delete-405: DELETE -> 405 UNSUPPORTED" "$code $(json_get "$tmp/body" 'd["errors"][0]["code"]')" "405 UNSUPPORTED"
    eq "delete-405: the manifest is still there" "$(codes "$url" 1 "/v2/test/img/manifests/$MANIFEST")" 200
  else
    fail "delete-405: start"
  fi

  # corrupt-blobs: a blob GET keeps its length but its first byte is inverted; manifests pass.
  if px=$(proxy corrupt-blobs); then
    curl -s -o "$tmp/bad" "$px/v2/test/img/blobs/$LAYER"
    eq "corrupt-blobs: same size" "$(wc -c <"$tmp/bad" | tr -d ' ')" "$LAYER_SIZE"
    if cmp -s "$tmp/bad" "$tmp/layout/blobs/sha256/${LAYER#sha256:}"; then fail "corrupt-blobs: blob unchanged"; else pass "corrupt-blobs: blob changed"; fi
    check "corrupt-blobs: only the first byte differs" cmp -s -i 1 "$tmp/bad" "$tmp/layout/blobs/sha256/${LAYER#sha256:}"
    curl -s -H "$ACCEPT" -o "$tmp/m" "$px/v2/test/img/manifests/1"
    check "corrupt-blobs: manifests pass" cmp -s "$tmp/m" "$tmp/layout/blobs/sha256/${MANIFEST#sha256:}"
  else
    fail "corrupt-blobs: start"
  fi

  # redirect-blobs: a blob GET is sent to localhost:PORT/_storage/N/...; curl -L follows it (and,
  # like any good client, sends no credentials there: the log says auth false).
  if px=$(proxy redirect-blobs); then
    curl -s -D "$tmp/h" -o /dev/null "$px/v2/test/img/blobs/$LAYER"
    check "redirect-blobs: 307 to localhost storage" grep -qi "^location: http://localhost:${px##*:}/_storage/" "$tmp/h"
    curl -s -L -u hoist:not-a-secret -o "$tmp/b" "$px/v2/test/img/blobs/$LAYER"
    check "redirect-blobs: followed, the blob" cmp -s "$tmp/b" "$tmp/layout/blobs/sha256/${LAYER#sha256:}"
    eq "redirect-blobs: storage requests logged without auth" \
      "$(python3 -c 'import json,sys; print([e["auth"] for e in map(json.loads, open(sys.argv[1])) if e["fault"] == "storage"])' "$dir/proxy-redirect-blobs.log")" "[False]"
    eq "redirect-blobs: a missing blob is not redirected" \
      "$(curl -s -o /dev/null -w '%{http_code}' "$px/v2/test/img/blobs/sha256:$(printf '%064d' 0)")" 404
  else
    fail "redirect-blobs: start"
  fi

  # delay: every response at least 200 ms late.
  if px=$(proxy delay); then
    t=$(curl -s -o /dev/null -w '%{time_total}' "$px/v2/")
    check "delay: response took >= 0.2 s ($t)" python3 -c "import sys; sys.exit(0 if float('$t') >= 0.2 else 1)"
  else
    fail "delay: start"
  fi

  pids=$(awk '{ print $1 }' "$dir/pids")
  check "none: registry.sh stop (registry and proxies)" registry_stop "$dir"
  alive=
  for p in $pids; do _rs_alive "$p" && _rs_ours "$p" "$dir" && alive="$alive $p"; done  # (a recycled PID is not ours)
  eq "none: nothing left running after stop" "$alive" ""
fi

# A PID in DIR/pids that the system handed to another process once ours ended: ctest runs tests
# in parallel and PIDs wrap (at 32768 here), so it may well run another test's registry. Stopping
# DIR must leave it alone. Reproduced by listing a second registry's PID in the first one's pids.
a=$tmp/reg-recycle-a b=$tmp/reg-recycle-b
if registry_start none "$a" >/dev/null && registry_start none "$b" >/dev/null; then
  bpid=$(cat "$b/registry.pid")
  echo "$bpid registry" >>"$a/pids"
  check "recycled PID: stop the first registry" registry_stop "$a"
  check "recycled PID: the second registry still runs" _rs_alive "$bpid"
  eq "recycled PID: the second registry still answers" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$(cat "$b/url")/v2/")" 200
  check "recycled PID: stop the second registry" registry_stop "$b"
  if _rs_alive "$bpid"; then fail "recycled PID: the second registry outlived its own stop"; else pass; fi
else
  fail "recycled PID: start two registries"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
