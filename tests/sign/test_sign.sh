#!/bin/sh
# hoist key / sign / verify against a real docker-registry (basic auth) and an OCI layout.
# Signatures are checked by hoist verify and independently by cosign_verify.py (containers/image's
# rules, openssl for the ECDSA check), and given to Debian's skopeo with a sigstoreSigned policy.
# usage: test_sign.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
HOIST_REGISTRY_TOOLS=$ROOT/tests/registry
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
for t in python3 openssl curl skopeo; do
  command -v "$t" >/dev/null 2>&1 || { echo "skipped: $t is missing"; exit 77; }
done
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/reg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
unset HOIST_SIGNING_PASSWORD
EXT="$ROOT/examples/hello-extension"
SECRET="pw-Sekr1t-$$-never-printed"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
mkdir -p "$tmp/logs"
n=0
# h NAME ARGS...: runs hoist, stdout and stderr kept in logs/NAME.{out,err} (all grepped for the
# password at the end); returns hoist's exit code
h() {
  name=$1; shift
  "$HOIST" "$@" >"$tmp/logs/$name.out" 2>"$tmp/logs/$name.err"
}
show() { cat "$tmp/logs/$1.out" "$tmp/logs/$1.err"; }

registry_start basic "$tmp/reg" >/dev/null || exit $?
url=$(cat "$tmp/reg/url"); host=${url#http://}
pw=$(cat "$tmp/reg/password")
CREDS="hoist:$pw"
export REGPW="$pw"
repo=acme/hello
dest="docker://$host/$repo"
verify_py() {  # verify_py REF KEY IDENTITY [more]
  ref=$1 key=$2 id=$3; shift 3
  python3 "$HERE/cosign_verify.py" --registry "$url" --repo "$repo" --user hoist --password-env REGPW \
    --ref "$ref" --key "$key" --identity "$id" "$@"
}
tags_now() { curl -s -u "$CREDS" "$url/v2/$repo/tags/list"; }
writes_now() { grep -c -E '"(PUT|POST|PATCH|DELETE) ' "$tmp/reg/log" || true; }

h rel1 release "$EXT" --version 1.0.0 --to "$dest" --creds "$CREDS" && ok || { ko "release 1.0.0"; show rel1; exit 1; }
h rel2 release "$EXT" --version 1.0.1 --to "$dest" --creds "$CREDS" && ok || { ko "release 1.0.1"; show rel2; exit 1; }
h rel3 release "$EXT" --version 1.0.0 --to "oci:$tmp/layout" && ok || { ko "release to a layout"; show rel3; exit 1; }

# --- keys ---------------------------------------------------------------------------------------
h key_plain key generate --out "$tmp/plain" && ok || { ko "key generate"; show key_plain; }
[ "$(stat -c %a "$tmp/plain.key")" = 600 ] && grep -q "BEGIN PRIVATE KEY" "$tmp/plain.key" \
  && grep -q "BEGIN PUBLIC KEY" "$tmp/plain.pub" && ok || ko "plain key: mode $(stat -c %a "$tmp/plain.key") or PEM types"
HOIST_SIGNING_PASSWORD=$SECRET h key_enc key generate --out "$tmp/enc" && ok || { ko "encrypted key generate"; show key_enc; }
grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$tmp/enc.key" && [ "$(stat -c %a "$tmp/enc.key")" = 600 ] && ok || ko "encrypted key PEM"
# OpenSSL opens it with the password and finds the same public key
HOIST_SIGNING_PASSWORD=$SECRET openssl pkey -in "$tmp/enc.key" -passin env:HOIST_SIGNING_PASSWORD -pubout 2>/dev/null \
  | cmp -s - "$tmp/enc.pub" && ok || ko "openssl cannot open the encrypted key or its public half differs"
HOIST_SIGNING_PASSWORD=$SECRET h key_cos key generate --out "$tmp/cos" --cosign && ok || { ko "cosign key generate"; show key_cos; }
python3 - "$tmp/cos.key" <<'PY' && ok || ko "cosign key envelope"
import base64, json, sys
lines = open(sys.argv[1]).read().strip().split("\n")
assert lines[0] == "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----" and lines[-1] == "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----"
assert all(len(l) <= 64 for l in lines[1:-1])
env = json.loads(base64.b64decode("".join(lines[1:-1])))
assert env["kdf"]["name"] == "scrypt" and env["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}, env["kdf"]
assert len(base64.b64decode(env["kdf"]["salt"])) == 32
assert env["cipher"]["name"] == "nacl/secretbox" and len(base64.b64decode(env["cipher"]["nonce"])) == 24
assert len(base64.b64decode(env["ciphertext"])) > 16
PY
h key_again key generate --out "$tmp/plain"; rc=$?
[ $rc -eq 2 ] && grep -q "exists" "$tmp/logs/key_again.err" && ok || { ko "an existing key was not refused (exit $rc)"; show key_again; }

# --- signing and verifying ------------------------------------------------------------------------
h sign1 sign "$dest:1.0.0" --key "$tmp/plain.key" --creds "$CREDS" && ok || { ko "sign 1.0.0"; show sign1; }
h verify1 verify "$dest:1.0.0" --key "$tmp/plain.pub" --creds "$CREDS" && ok || { ko "hoist verify 1.0.0"; show verify1; }
verify_py 1.0.0 "$tmp/plain.pub" "$host/$repo" >/dev/null && ok || ko "cosign_verify.py refuses hoist's signature"
# a second key adds a second signature; both verify, the first is kept
HOIST_SIGNING_PASSWORD=$SECRET h sign2 sign "$dest:1.0.0" --key "$tmp/enc.key" --creds "$CREDS" && ok || { ko "sign with the encrypted key"; show sign2; }
HOIST_SIGNING_PASSWORD=$SECRET h sign3 --json sign "$dest:1.0.0" --key "$tmp/cos.key" --creds "$CREDS" && ok || { ko "sign with the cosign key"; show sign3; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["added"] and r["signatures"]==3 and len(r["children"])==2, r' \
  "$tmp/logs/sign3.out" && ok || { ko "three signatures expected"; show sign3; }
for k in plain enc cos; do
  verify_py 1.0.0 "$tmp/$k.pub" "$host/$repo" >/dev/null && h "verify_$k" verify "$dest:1.0.0" --key "$tmp/$k.pub" --creds "$CREDS" \
    && ok || { ko "signature by $k.pub"; show "verify_$k"; }
done
# signing again with the same key changes nothing
before=$(writes_now)
h sign4 --json sign "$dest:1.0.0" --key "$tmp/plain.key" --creds "$CREDS" \
  && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert not r["added"] and r["signatures"]==3, r' "$tmp/logs/sign4.out" \
  && [ "$(writes_now)" = "$before" ] && ok || { ko "re-signing wrote something"; show sign4; }

# skopeo with a sigstoreSigned policy: Debian builds containers/image with sigstore switched off, so
# it cannot accept any sigstore signature; what it still shows is that it finds hoist's attachments
# (it gets to the signature check) and refuses an unsigned image
cat >"$tmp/policy.json" <<JSON
{"default":[{"type":"reject"}],"transports":{"docker":{"$host":[{"type":"sigstoreSigned","keyPath":"$tmp/plain.pub","signedIdentity":{"type":"matchRepository"}}]}}}
JSON
mkdir -p "$tmp/registries.d"
printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$host" >"$tmp/registries.d/hoist.yaml"
sk() { skopeo copy --src-tls-verify=false --src-creds "$CREDS" --policy "$tmp/policy.json" \
  --registries.d "$tmp/registries.d" --remove-signatures "docker://$host/$repo:$1" "oci:$tmp/sk-$1" >"$tmp/sk.out" 2>&1; }
sk 1.0.0; rc=$?
if grep -q "sigstore disabled" "$tmp/sk.out"; then
  echo "note: this skopeo has sigstore support disabled at build time ($(grep -o 'Debian-local change: sigstore disabled' "$tmp/sk.out" | head -1)); cosign_verify.py is the independent check"
  [ $rc -ne 0 ] && ok || ko "skopeo copied although it cannot check signatures"
elif [ $rc -eq 0 ]; then
  ok
else
  ko "skopeo refused hoist's signature: $(cat "$tmp/sk.out")"
fi
sk 1.0.1; rc=$?
[ $rc -ne 0 ] && grep -q "no signature exists" "$tmp/sk.out" && ok || { ko "skopeo did not refuse the unsigned 1.0.1"; cat "$tmp/sk.out"; }

# --- refusals ---------------------------------------------------------------------------------------
# unsigned
h v_unsigned verify "$dest:1.0.1" --key "$tmp/plain.pub" --creds "$CREDS"; rc=$?
[ $rc -eq 1 ] && grep -q "is not signed" "$tmp/logs/v_unsigned.err" && ok || { ko "unsigned 1.0.1 accepted (exit $rc)"; show v_unsigned; }
verify_py 1.0.1 "$tmp/plain.pub" "$host/$repo" 2>/dev/null && ko "cosign_verify.py accepted the unsigned 1.0.1" || ok
# another key
h key_other key generate --out "$tmp/other" >/dev/null
h v_other verify "$dest:1.0.0" --key "$tmp/other.pub" --creds "$CREDS"; rc=$?
[ $rc -eq 1 ] && grep -q "was not made by key" "$tmp/logs/v_other.err" && ok || { ko "a foreign key verified (exit $rc)"; show v_other; }
verify_py 1.0.0 "$tmp/other.pub" "$host/$repo" 2>/dev/null && ko "cosign_verify.py accepted a foreign key" || ok
# another identity (the signature was made for acme/hello)
h v_ident verify "$dest:1.0.0" --key "$tmp/plain.pub" --identity "$host/acme/other" --creds "$CREDS"; rc=$?
[ $rc -eq 1 ] && grep -q "is for $host/$repo, not $host/acme/other" "$tmp/logs/v_ident.err" && ok || { ko "wrong identity accepted"; show v_ident; }
# re-tagged: 1.0.0's signature manifest copied under 1.0.1's digest (a replay onto other content)
d100=$(skopeo inspect --raw --tls-verify=false --creds "$CREDS" "docker://$host/$repo:1.0.0" | python3 -c 'import hashlib,sys; print("sha256:"+hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
d101=$(skopeo inspect --raw --tls-verify=false --creds "$CREDS" "docker://$host/$repo:1.0.1" | python3 -c 'import hashlib,sys; print("sha256:"+hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
t100=$(echo "$d100" | sed 's/:/-/').sig t101=$(echo "$d101" | sed 's/:/-/').sig
curl -s -u "$CREDS" -H "Accept: application/vnd.oci.image.manifest.v1+json" "$url/v2/$repo/manifests/$t100" >"$tmp/sig100.json"
curl -s -f -u "$CREDS" -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
  --data-binary "@$tmp/sig100.json" "$url/v2/$repo/manifests/$t101" >/dev/null && ok || ko "cannot plant the replayed signature"
h v_replay verify "$dest:1.0.1" --key "$tmp/plain.pub" --creds "$CREDS"; rc=$?
[ $rc -eq 1 ] && grep -q "signs another image ($d100)" "$tmp/logs/v_replay.err" && ok || { ko "a replayed signature was accepted (exit $rc)"; show v_replay; }
verify_py 1.0.1 "$tmp/plain.pub" "$host/$repo" 2>/dev/null && ko "cosign_verify.py accepted a replayed signature" || ok
# the tag moved: 1.0.0 re-released with other content has a new digest and no signature
mkdir -p "$tmp/ext2" && cp -r "$EXT/." "$tmp/ext2/" && echo "<p>changed</p>" >>"$tmp/ext2/ui/index.html" 2>/dev/null \
  || echo changed >"$tmp/ext2/changed.txt"
h rel_force release "$tmp/ext2" --version 1.0.0 --force --to "$dest" --creds "$CREDS" || { ko "re-release 1.0.0"; show rel_force; }
h v_moved verify "$dest:1.0.0" --key "$tmp/plain.pub" --creds "$CREDS"; rc=$?
[ $rc -eq 1 ] && grep -q "is not signed" "$tmp/logs/v_moved.err" && ok || { ko "the re-tagged 1.0.0 verified (exit $rc)"; show v_moved; }
verify_py 1.0.0 "$tmp/plain.pub" "$host/$repo" 2>/dev/null && ko "cosign_verify.py accepted the re-tagged 1.0.0" || ok
# the original content, by digest, still verifies
h v_digest verify "$dest@$d100" --key "$tmp/plain.pub" --creds "$CREDS" && verify_py "$d100" "$tmp/plain.pub" "$host/$repo" >/dev/null \
  && ok || { ko "the signed digest no longer verifies"; show v_digest; }
# tampered: one signature's bytes changed, or its payload replaced (other identity, same signature)
python3 - "$tmp/sig100.json" "$tmp/tampered.json" <<'PY'
import base64, json, sys
m = json.load(open(sys.argv[1]))
for l in m["layers"]:
    s = bytearray(base64.b64decode(l["annotations"]["dev.cosignproject.cosign/signature"]))
    s[-5] ^= 1
    l["annotations"]["dev.cosignproject.cosign/signature"] = base64.b64encode(bytes(s)).decode()
open(sys.argv[2], "w").write(json.dumps(m))
PY
curl -s -f -u "$CREDS" -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
  --data-binary "@$tmp/tampered.json" "$url/v2/$repo/manifests/$t100" >/dev/null || ko "cannot plant the tampered signature"
h v_tamper verify "$dest@$d100" --key "$tmp/plain.pub" --creds "$CREDS"; rc=$?
[ $rc -eq 1 ] && grep -q "no valid signature" "$tmp/logs/v_tamper.err" && ok || { ko "a tampered signature verified (exit $rc)"; show v_tamper; }
verify_py "$d100" "$tmp/plain.pub" "$host/$repo" 2>/dev/null && ko "cosign_verify.py accepted a tampered signature" || ok
# a payload naming another repository, pushed as a blob, with the original (valid) signature
python3 - "$tmp/sig100.json" "$tmp/swapped.json" "$tmp/payload2" "$host" <<'PY'
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
p = json.dumps({"critical": {"identity": {"docker-reference": sys.argv[4] + "/evil/repo"}, "image": {"docker-manifest-digest": "x"}, "type": "cosign container image signature"}, "optional": None}).encode()
open(sys.argv[3], "wb").write(p)
for l in m["layers"]:
    l["digest"], l["size"] = "sha256:" + hashlib.sha256(p).hexdigest(), len(p)
open(sys.argv[2], "w").write(json.dumps(m))
PY
pd=sha256:$(sha256sum "$tmp/payload2" | cut -d' ' -f1)
loc=$(curl -s -u "$CREDS" -X POST -D - "$url/v2/$repo/blobs/uploads/" -o /dev/null | tr -d '\r' | sed -n 's/^Location: //Ip')
case $loc in http*) ;; *) loc="$url$loc" ;; esac
case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
curl -s -f -u "$CREDS" -X PUT -H "Content-Type: application/octet-stream" --data-binary "@$tmp/payload2" "$loc${sep}digest=$pd" >/dev/null \
  && curl -s -f -u "$CREDS" -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
       --data-binary "@$tmp/swapped.json" "$url/v2/$repo/manifests/$t100" >/dev/null || ko "cannot plant the swapped payload"
h v_swap verify "$dest@$d100" --key "$tmp/plain.pub" --creds "$CREDS"; rc=$?
[ $rc -eq 1 ] && grep -q "was not made by key" "$tmp/logs/v_swap.err" && ok || { ko "a swapped payload verified (exit $rc)"; show v_swap; }
verify_py "$d100" "$tmp/plain.pub" "$host/$repo" 2>/dev/null && ko "cosign_verify.py accepted a swapped payload" || ok

# --- keys that cannot sign: exit 2 or 3, a clear message, nothing written, no password shown -------
openssl genrsa -out "$tmp/rsa.key" 2048 2>/dev/null
openssl ecparam -name secp384r1 -genkey -noout -out "$tmp/p384.key" 2>/dev/null
tags_before=$(tags_now) writes_before=$(writes_now)
[ "$writes_before" -gt 0 ] || ko "the registry log shows no writes: the nothing-written check would prove nothing"
bad() {  # bad NAME EXPECTED_EXIT MESSAGE_PATTERN ARGS...
  name=$1 want=$2 pat=$3; shift 3
  h "$name" sign "$dest:1.0.1" --creds "$CREDS" "$@"; rc=$?
  [ $rc -eq "$want" ] && grep -q "$pat" "$tmp/logs/$name.err" && ok || { ko "$name: exit $rc (want $want), '$pat' expected"; show "$name"; }
}
HOIST_SIGNING_PASSWORD="not-$SECRET" bad wrong_pw 3 "wrong password for key '$tmp/enc.key'" --key "$tmp/enc.key"
HOIST_SIGNING_PASSWORD="not-$SECRET" bad wrong_pw_cosign 3 "wrong password for key '$tmp/cos.key'" --key "$tmp/cos.key"
bad no_pw 3 "is encrypted: set HOIST_SIGNING_PASSWORD" --key "$tmp/enc.key"
bad missing 2 "key file '$tmp/nope.key' does not exist" --key "$tmp/nope.key"
bad rsa 3 "is an RSA key; hoist signs with ECDSA P-256 keys" --key "$tmp/rsa.key"
bad p384 3 "curve secp384r1" --key "$tmp/p384.key"
bad public 3 "is a public key, not a private key" --key "$tmp/plain.pub"
bad not_a_key 3 "holds no PEM key" --key "$EXT/extension.lua"
h v_private verify "$dest:1.0.0" --key "$tmp/plain.key" --creds "$CREDS"; rc=$?
[ $rc -eq 3 ] && grep -q "a public key (PUBLIC KEY) is needed" "$tmp/logs/v_private.err" && ok || { ko "verify with a private key: exit $rc"; show v_private; }
[ "$(tags_now)" = "$tags_before" ] && [ "$(writes_now)" = "$writes_before" ] && ok || ko "a refused key still wrote to the registry"

# --- an OCI layout ---------------------------------------------------------------------------------
h l_noid sign "oci:$tmp/layout:1.0.0" --key "$tmp/plain.key"; rc=$?
[ $rc -eq 2 ] && grep -q "needs --identity" "$tmp/logs/l_noid.err" && ok || { ko "layout signing without --identity (exit $rc)"; show l_noid; }
h l_sign sign "oci:$tmp/layout:1.0.0" --key "$tmp/plain.key" --identity "$host/acme/hello" && ok || { ko "sign a layout"; show l_sign; }
h l_verify verify "oci:$tmp/layout:1.0.0" --key "$tmp/plain.pub" --identity "$host/acme/hello" && ok || { ko "verify a layout"; show l_verify; }
python3 "$HERE/cosign_verify.py" --layout "$tmp/layout" --ref 1.0.0 --key "$tmp/plain.pub" --identity "$host/acme/hello" >/dev/null \
  && ok || ko "cosign_verify.py refuses the layout's signature"
h l_validate validate "oci:$tmp/layout:1.0.0" && ok || { ko "the signed layout no longer validates"; show l_validate; }

# --- signatures other tools make: cosign's layout, signed by openssl with an openssl-made key ----
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$tmp/ossl.key"
openssl pkey -in "$tmp/ossl.key" -pubout -out "$tmp/ossl.pub" 2>/dev/null
h rel_other release "$EXT" --version 1.0.0 --to "docker://$host/acme/other" --creds "$CREDS" || { ko "release acme/other"; show rel_other; }
python3 "$HERE/cosign_sign.py" --registry "$url" --repo acme/other --ref 1.0.0 --key "$tmp/ossl.key" \
  --identity "$host/acme/other" --user hoist --password-env REGPW >/dev/null && ok || ko "cosign_sign.py"
h v_foreign verify "docker://$host/acme/other:1.0.0" --key "$tmp/ossl.pub" --creds "$CREDS" \
  && grep -q "signed for $host/acme/other" "$tmp/logs/v_foreign.out" && ok || { ko "hoist verify refuses a signature made by openssl in cosign's layout"; show v_foreign; }
h v_foreign2 verify "docker://$host/acme/other:1.0.0" --key "$tmp/plain.pub" --creds "$CREDS"
[ $? -eq 1 ] && ok || ko "the openssl-made signature verified with another key"
# hoist adds its signature beside it, keeping it
h sign_foreign sign "docker://$host/acme/other:1.0.0" --key "$tmp/ossl.key" --creds "$CREDS" \
  && grep -q "2 signatures" "$tmp/logs/sign_foreign.out" && ok || { ko "signing beside a foreign signature"; show sign_foreign; }
python3 "$HERE/cosign_verify.py" --registry "$url" --repo acme/other --user hoist --password-env REGPW --ref 1.0.0 \
  --key "$tmp/ossl.pub" --identity "$host/acme/other" >/dev/null && ok || ko "cosign_verify.py after hoist signed beside cosign_sign.py"

# --- the password never appeared anywhere -----------------------------------------------------------
if grep -r -l -F "$SECRET" "$tmp/logs" >/dev/null; then ko "the password was printed: $(grep -r -l -F "$SECRET" "$tmp/logs")"; else ok; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
