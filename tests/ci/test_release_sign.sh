#!/bin/sh
# hoist release/index/promote/copy with signatures and attestations, against two real
# docker-registry instances (basic auth): the key checked before anything is written, signatures
# and referrers in place before the version tag, SBOMs and provenance by default, reproducible,
# carried by copy and promote, re-signed for a new repository; --label, --tag, --authfile,
# created from the commit time, hoist digest, inspect --referrers, GitHub annotations and the
# step summary. Signatures are also checked by tests/sign/cosign_verify.py (no hoist code).
# usage: test_release_sign.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIGN=$ROOT/tests/sign
HOIST_REGISTRY_TOOLS=$ROOT/tests/registry
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
for t in python3 openssl curl skopeo umoci; do
  command -v "$t" >/dev/null 2>&1 || { echo "skipped: $t is missing"; exit 77; }
done
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/regA" >/dev/null 2>&1; registry_stop "$tmp/regB" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
# no credentials but the ones each command is given: an empty home, no auth files
export HOME="$tmp/home" DOCKER_CONFIG="$tmp/home/.docker"
mkdir -p "$HOME"
unset HOIST_SIGNING_PASSWORD SOURCE_DATE_EPOCH REGISTRY_AUTH_FILE XDG_RUNTIME_DIR XDG_CONFIG_HOME GITHUB_ACTIONS GITHUB_STEP_SUMMARY
SECRET="pw-Sekr1t-$$-never-printed"
WRONG="wrong-Passw0rd-$$-never-printed"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
mkdir -p "$tmp/logs"
h() { name=$1; shift; "$HOIST" "$@" >"$tmp/logs/$name.out" 2>"$tmp/logs/$name.err"; }
show() { echo "--- $1"; cat "$tmp/logs/$1.out" "$tmp/logs/$1.err"; }
js() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); $2" "$tmp/logs/$1.out"; }

# the extension, in a git repository of its own so that its commit and commit time are known
EXT=$tmp/ext
cp -r "$ROOT/examples/hello-extension" "$EXT"
have_git=0
if command -v git >/dev/null 2>&1; then
  (cd "$EXT" && git init -q && git add -A && GIT_AUTHOR_DATE=@1650000000 GIT_COMMITTER_DATE=@1650000000 \
    git -c user.name=t -c user.email=t@example.com commit -qm one) && have_git=1
fi

registry_start basic "$tmp/regA" >/dev/null || exit $?
registry_start basic "$tmp/regB" >/dev/null || exit $?
urlA=$(cat "$tmp/regA/url"); A=${urlA#http://}; CA="hoist:$(cat "$tmp/regA/password")"
urlB=$(cat "$tmp/regB/url"); B=${urlB#http://}; CB="hoist:$(cat "$tmp/regB/password")"
export PWA="${CA#hoist:}" PWB="${CB#hoist:}"
writes() { grep -c -E '"(PUT|POST|PATCH|DELETE) ' "$tmp/$1/log" || true; }
vpy() {  # vpy URL PWENV REPO REF KEY IDENTITY
  python3 "$SIGN/cosign_verify.py" --registry "$1" --repo "$3" --user hoist --password-env "$2" \
    --ref "$4" --key "$5" --identity "$6" >/dev/null
}

h key1 key generate --out "$tmp/k" || { ko "key generate"; show key1; }
HOIST_SIGNING_PASSWORD=$SECRET h key2 key generate --out "$tmp/enc" || { ko "encrypted key"; show key2; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.key" 2>/dev/null

# --- 1. a key that cannot be used: the right exit code and message, nothing written -------------
before=$(writes regA)
check_key() {  # check_key NAME EXPECTED_EXIT PATTERN ARGS...
  n=$1 want=$2 pat=$3; shift 3
  h "$n" release "$EXT" --version 0.9.0 --to "docker://$A/acme/hello" --creds "$CA" "$@"; rc=$?
  [ "$rc" = "$want" ] && grep -q "$pat" "$tmp/logs/$n.err" && ok || { ko "$n: exit $rc (want $want), message"; show "$n"; }
}
check_key k_missing 2 "does not exist" --sign "$tmp/nope.key"
HOIST_SIGNING_PASSWORD=$WRONG check_key k_wrongpw 3 "wrong password" --sign "$tmp/enc.key"
check_key k_nopw 3 "is encrypted: set HOIST_SIGNING_PASSWORD" --sign "$tmp/enc.key"
check_key k_rsa 3 "RSA" --sign "$tmp/rsa.key"
check_key k_pub 3 "public key" --sign "$tmp/k.pub"
HOIST_SIGNING_PASSWORD=$WRONG h k_json --json release "$EXT" --version 0.9.0 --to "docker://$A/acme/hello" --creds "$CA" --sign "$tmp/enc.key"
js k_json 'assert r["exit"] == 3 and r["kind"] == "EINVAL" and "wrong password" in r["error"], r' && ok || { ko "--json failure"; show k_json; }
[ "$(writes regA)" = "$before" ] && ok || ko "a refused key still wrote to the registry ($before -> $(writes regA) writes)"
curl -s -u "$CA" "$urlA/v2/acme/hello/tags/list" | grep -q '"tags":\[' && ko "tags exist after refused keys" || ok

# --- 2. a signed release: signatures, SBOMs and provenance before the tag ----------------------
HOIST_SIGNING_PASSWORD=$SECRET h rel1 --json release "$EXT" --version 1.0.0 --to "docker://$A/acme/hello" --creds "$CA" \
  --sign "$tmp/enc.key" --label ci.run=42 --label team=tools --tag edge || { ko "signed release"; show rel1; exit 1; }
js rel1 'assert r["signed"]["manifests"] == 3 and len(r["sbom"]) == 2 and r["provenance"].startswith("sha256:") and r["tags"] == ["1.0.0", "edge"], r' \
  && ok || { ko "release result"; show rel1; }
d1=$(js rel1 'print(r["digest"])')
h v1 verify "docker://$A/acme/hello:1.0.0" --key "$tmp/enc.pub" --creds "$CA" && ok || { ko "hoist verify"; show v1; }
vpy "$urlA" PWA acme/hello 1.0.0 "$tmp/enc.pub" "$A/acme/hello" && ok || ko "cosign_verify.py refuses the release's signature"
for p in amd64 arm64; do
  pd=$(js rel1 "print(r['platforms']['linux/$p'])")
  vpy "$urlA" PWA acme/hello "$pd" "$tmp/enc.pub" "$A/acme/hello" && ok || ko "cosign_verify.py: linux/$p manifest unsigned"
done
# the order in the registry's access log: every sha256-* tag (signatures, referrers indexes) before 1.0.0
python3 - "$tmp/regA/log" <<'PY' && ok || ko "a signature or referrers index was written after the version tag"
import re, sys
puts = [m.group(1) for l in open(sys.argv[1]) for m in [re.search(r'"PUT /v2/acme/hello/manifests/([^ ?"]+)', l)] if m]
ver = max(i for i, t in enumerate(puts) if t == "1.0.0")
side = [i for i, t in enumerate(puts) if t.startswith("sha256-")]
assert side and max(side) < ver, (puts, ver)
PY
# what refers to it (also through inspect --referrers, the same output)
h refs --json referrers "docker://$A/acme/hello:1.0.0" --platforms --creds "$CA"
js refs '
types = [x["artifactType"] for x in r["referrers"]]
assert types == ["application/vnd.in-toto+json"] and r["signatures"] == 1, r
for p, d in r["platforms"].items():
    assert [x["artifactType"] for x in d["referrers"]] == ["application/spdx+json"] and d["signatures"] == 1, (p, d)
' && ok || { ko "referrers"; show refs; }
h refs2 --json inspect --referrers "docker://$A/acme/hello:1.0.0" --platforms --creds "$CA"
cmp -s "$tmp/logs/refs.out" "$tmp/logs/refs2.out" && ok || ko "inspect --referrers differs from referrers"
# the documents: provenance names hoist, extension.lua, the commit; each SBOM lists the image's files
ver=$("$HOIST" --json version | python3 -c "import json,sys; print(json.load(sys.stdin)[\"version\"])")
ext_sha=$(sha256sum "$EXT/extension.lua" | cut -d' ' -f1)
commit=$([ $have_git = 1 ] && git -C "$EXT" rev-parse HEAD || echo none)
"$HOIST" eval '
local attest, endpoint, json = require("hoist.attest"), require("hoist.endpoint"), require("hoist.json")
local ep = assert(endpoint.open(arg[1], { creds = arg[2] }))
local top = assert(ep:resolve())
local function save(desc, file) local data = assert(attest.fetch(ep, desc)); local f = assert(io.open(file, "w")); f:write(data); f:close() end
save(assert(attest.referrers(ep, top))[1], arg[3] .. "/prov.json")
local _, m = ep:manifest(top)
for _, c in ipairs(m.manifests) do save(assert(attest.referrers(ep, c))[1], arg[3] .. "/sbom-" .. c.platform.architecture .. ".json") end
ep:close()' "docker://$A/acme/hello:1.0.0" "$CA" "$tmp" 2>"$tmp/eval.err" || { ko "reading the documents back"; cat "$tmp/eval.err"; }
python3 - "$tmp/prov.json" "$ver" "$ext_sha" "$commit" "$d1" <<'PY' && ok || ko "provenance"
import json, sys
p = json.load(open(sys.argv[1])); ver, ext, commit, digest = sys.argv[2:6]
assert p["_type"] == "https://in-toto.io/Statement/v1" and p["predicateType"] == "https://slsa.dev/provenance/v1"
assert p["subject"][0]["digest"]["sha256"] == digest.split(":")[1]
bd, rd = p["predicate"]["buildDefinition"], p["predicate"]["runDetails"]
assert rd["builder"]["id"] == "urn:hoist:builder:hoist@" + ver and bd["internalParameters"]["hoist"] == ver, rd
deps = {d["name"]: d for d in bd["resolvedDependencies"]}
assert deps["extension.lua"]["digest"]["sha256"] == ext, deps
assert "metadata.json" in deps
if commit != "none":
    assert deps["source"]["digest"]["gitCommit"] == commit, deps
    assert rd["metadata"]["startedOn"] == "2022-04-15T05:20:00Z", rd   # the commit's time
assert bd["externalParameters"]["version"] == "1.0.0" and sorted(bd["externalParameters"]["platforms"]) == ["linux/amd64", "linux/arm64"]
PY
for p in amd64 arm64; do
  pd=$(js rel1 "print(r['platforms']['linux/$p'])")
  skopeo copy -q --src-tls-verify=false --src-creds "$CA" "docker://$A/acme/hello@$pd" "oci:$tmp/back-$p:img" >/dev/null 2>"$tmp/err" \
    && umoci unpack --rootless --image "$tmp/back-$p:img" "$tmp/bundle-$p" >/dev/null 2>>"$tmp/err" \
    && python3 "$SIGN/check_sbom.py" "$tmp/sbom-$p.json" "$tmp/bundle-$p/rootfs" --image-digest "$pd" >"$tmp/chk" 2>&1 \
    && ok || { ko "SBOM linux/$p"; cat "$tmp/err" "$tmp/chk"; }
done
# labels and created
skopeo inspect --config --tls-verify=false --creds "$CA" "docker://$A/acme/hello@$(js rel1 "print(r['platforms']['linux/amd64'])")" >"$tmp/cfg.json" 2>/dev/null
python3 - "$tmp/cfg.json" "$have_git" <<'PY' && ok || ko "labels or created"
import json, sys
c = json.load(open(sys.argv[1])); l = c["config"]["Labels"]
assert l["ci.run"] == "42" and l["team"] == "tools", l
if sys.argv[2] == "1":
    assert c["created"] == "2022-04-15T05:20:00Z" and l["org.opencontainers.image.created"] == c["created"], c["created"]
PY
# --- 3. the same release again: nothing new, the documents byte for byte the same ----------------
HOIST_SIGNING_PASSWORD=$SECRET h rel1b --json release "$EXT" --version 1.0.0 --to "docker://$A/acme/hello" --creds "$CA" \
  --sign "$tmp/enc.key" --label ci.run=42 --label team=tools --tag edge || { ko "re-running the release"; show rel1b; }
python3 - "$tmp/logs/rel1.out" "$tmp/logs/rel1b.out" <<'PY' && ok || ko "a re-run changed the digests, signatures or documents"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for k in ("digest", "platforms", "sbom", "provenance"):
    assert a[k] == b[k], (k, a[k], b[k])
PY
h refs3 --json referrers "docker://$A/acme/hello:1.0.0" --platforms --creds "$CA"
cmp -s "$tmp/logs/refs.out" "$tmp/logs/refs3.out" && ok || { ko "a re-run added referrers or signatures"; show refs3; }
# SOURCE_DATE_EPOCH wins over the commit time
SOURCE_DATE_EPOCH=1700000000 h rel_sde --json release "$EXT" --version 1.0.9 --to "oci:$tmp/sde" --sbom --provenance
js rel_sde 'assert r["created"] == "2023-11-14T22:13:20Z", r' && ok || { ko "SOURCE_DATE_EPOCH"; show rel_sde; }

# --- 4. --no-sbom --no-provenance, extra tags -----------------------------------------------------
h rel2 --json release "$EXT" --version 1.0.1 --to "docker://$A/acme/hello" --creds "$CA" --no-sbom --no-provenance \
  && js rel2 'assert "sbom" not in r and "provenance" not in r and "signed" not in r, r' && ok || { ko "--no-sbom --no-provenance"; show rel2; }
h refs4 --json referrers "docker://$A/acme/hello:1.0.1" --platforms --creds "$CA"
js refs4 'assert r["referrers"] == [] and all(d["referrers"] == [] for d in r["platforms"].values()), r' && ok || { ko "referrers after --no-sbom"; show refs4; }
# a version-like extra tag is immutable: 1.0.0 exists, so 1.0.2 --tag 1.0.0 is refused before 1.0.2 is written
h rel3 release "$EXT" --version 1.0.2 --to "docker://$A/acme/hello" --creds "$CA" --tag 1.0.0 --no-sbom --no-provenance; rc=$?
[ $rc = 1 ] && grep -q "tag '1.0.0' already exists" "$tmp/logs/rel3.err" && ok || { ko "an immutable extra tag moved (exit $rc)"; show rel3; }
curl -s -u "$CA" "$urlA/v2/acme/hello/tags/list" | grep -q '"1.0.2"' && ko "1.0.2 was tagged although its extra tag was refused" || ok
# other extra tags move
h rel4 --json release "$EXT" --version 1.0.3 --to "docker://$A/acme/hello" --creds "$CA" --tag edge --no-sbom --no-provenance \
  && [ "$("$HOIST" digest "docker://$A/acme/hello:edge" --creds "$CA")" = "$(js rel4 'print(r["digest"])')" ] && ok || { ko "edge did not move"; show rel4; }
h bad_tag release "$EXT" --version 1.0.4 --to "docker://$A/acme/hello" --creds "$CA" --tag 'no/slash'; rc=$?
[ $rc = 2 ] && ok || { ko "an invalid --tag (exit $rc)"; show bad_tag; }
h bad_label release "$EXT" --version 1.0.4 --to "docker://$A/acme/hello" --creds "$CA" --label org.opencontainers.image.vendor=x; rc=$?
[ $rc = 2 ] && grep -q "set by hoist" "$tmp/logs/bad_label.err" && ok || { ko "--label on a checked label (exit $rc)"; show bad_label; }

# push progress is counted in bytes: the last step is every byte of the blobs pushed
HOIST_LOG_FORMAT=json h prog --json release "$EXT" --version 1.0.0 --to "docker://$A/acme/progress" --creds "$CA" --no-sbom --no-provenance
python3 - "$tmp/logs/prog.out" "$tmp/logs/prog.err" <<'PY' && ok || { ko "push progress in bytes"; show prog; }
import json, sys
r = json.load(open(sys.argv[1]))
steps = [j for j in (json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")) if str(j.get("progress", "")).startswith("pushing")]
assert steps and steps[-1]["done"] == steps[-1]["total"] == r["uploaded_bytes"] > 1000, (steps, r["uploaded_bytes"])
assert all(a["done"] <= b["done"] for a, b in zip(steps, steps[1:])), steps
PY

# --- 5. hoist digest, --authfile -------------------------------------------------------------------
sk=$(skopeo inspect --raw --tls-verify=false --creds "$CA" "docker://$A/acme/hello:1.0.0" | sha256sum | cut -d' ' -f1)
[ "$("$HOIST" digest "docker://$A/acme/hello:1.0.0" --creds "$CA" 2>/dev/null)" = "sha256:$sk" ] && ok || ko "hoist digest differs from skopeo's"
h dig_missing digest "docker://$A/acme/hello:9.9.9" --creds "$CA"; rc=$?
[ $rc = 1 ] && ok || ko "hoist digest of a missing tag: exit $rc"
printf '%s\n' "$PWA" | h login_af login "$A" -u hoist --password-stdin --authfile "$tmp/auth.json" && [ -f "$tmp/auth.json" ] \
  && [ ! -f "$DOCKER_CONFIG/config.json" ] && ok || { ko "login --authfile"; show login_af; }
h tags_af tags "docker://$A/acme/hello" --authfile "$tmp/auth.json" && grep -q "^1.0.0$" "$tmp/logs/tags_af.out" && ok || { ko "--authfile"; show tags_af; }
h tags_noaf tags "docker://$A/acme/hello"; rc=$?
[ $rc = 1 ] && ok || { ko "without --authfile the registry should refuse (exit $rc)"; show tags_noaf; }
h tags_missing tags "docker://$A/acme/hello" --authfile "$tmp/none.json"; rc=$?
[ $rc = 2 ] && grep -q "authfile '$tmp/none.json' does not exist" "$tmp/logs/tags_missing.err" && ok || { ko "a missing --authfile (exit $rc)"; show tags_missing; }

# --- 6. copy to another registry: signatures and referrers go along -------------------------------
h cp1 --json copy "docker://$A/acme/hello:1.0.0" "docker://$B/mirror/hello:1.0.0" --src-creds "$CA" --dest-creds "$CB" \
  && js cp1 'assert r["signatures"] == 3 and r["referrers"] == 3, r' && ok || { ko "copy with attachments"; show cp1; }
# the signature still names A's repository: it verifies for that identity, and is refused for B's
h v_cp verify "docker://$B/mirror/hello:1.0.0" --key "$tmp/enc.pub" --identity "$A/acme/hello" --creds "$CB" && ok || { ko "the carried signature"; show v_cp; }
vpy "$urlB" PWB mirror/hello 1.0.0 "$tmp/enc.pub" "$A/acme/hello" && ok || ko "cosign_verify.py refuses the carried signature"
h v_cp2 verify "docker://$B/mirror/hello:1.0.0" --key "$tmp/enc.pub" --creds "$CB"; rc=$?
[ $rc = 1 ] && grep -q "not $B/mirror/hello" "$tmp/logs/v_cp2.err" && ok || { ko "a signature for another repository was accepted"; show v_cp2; }
h refsB --json referrers "docker://$B/mirror/hello:1.0.0" --platforms --creds "$CB"
python3 - "$tmp/logs/refs.out" "$tmp/logs/refsB.out" <<'PY' && ok || ko "the referrers at B differ from A's"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["referrers"] == b["referrers"] and a["platforms"] == b["platforms"], (a, b)
PY
# the copied documents are readable at B (their blobs came along)
"$HOIST" eval 'local a, e = require("hoist.attest"), require("hoist.endpoint"); local ep = assert(e.open(arg[1], { creds = arg[2] }))
local top = assert(ep:resolve()); assert(a.fetch(ep, assert(a.referrers(ep, top))[1])); ep:close()' \
  "docker://$B/mirror/hello:1.0.0" "$CB" 2>"$tmp/err" && ok || { ko "provenance unreadable at B"; cat "$tmp/err"; }

# --- 7. promote: within one registry (mounted), and to B re-signed for the new identity -----------
h pr1 --json promote "docker://$A/acme/hello:1.0.0" "docker://$A/prod/hello" --creds "$CA" \
  && js pr1 'assert r["signatures"] == 3 and r["referrers"] == 3 and r["blobs"]["uploaded"] <= 2 and r["blobs"]["mounted"] > 0, r' \
  && ok || { ko "promote within the registry"; show pr1; }
h pr2 --json promote "docker://$A/acme/hello:1.0.0" "docker://$B/prod/hello" --src-creds "$CA" --dest-creds "$CB" --sign "$tmp/k.key" \
  && js pr2 'assert r["signed"]["manifests"] == 3 and r["signed"]["identity"].endswith("/prod/hello"), r' && ok || { ko "promote --sign"; show pr2; }
h v_pr verify "docker://$B/prod/hello:1.0.0" --key "$tmp/k.pub" --creds "$CB" && ok || { ko "the promoted image's new signature"; show v_pr; }
vpy "$urlB" PWB prod/hello 1.0.0 "$tmp/k.pub" "$B/prod/hello" && ok || ko "cosign_verify.py refuses the new signature"
h v_pr2 verify "docker://$B/prod/hello:1.0.0" --key "$tmp/enc.pub" --identity "$A/acme/hello" --creds "$CB" && ok || { ko "the original signature was not kept"; show v_pr2; }
before=$(writes regB)
h pr_bad promote "docker://$A/acme/hello:1.0.1" "docker://$B/prod/hello" --src-creds "$CA" --dest-creds "$CB" --sign "$tmp/rsa.key"; rc=$?
[ $rc = 3 ] && [ "$(writes regB)" = "$before" ] && ok || { ko "promote with an RSA key (exit $rc) or it wrote"; show pr_bad; }

# --- 8. per-platform releases by digest, then index --sign ----------------------------------------
h pa --json release "$EXT" --version 2.0.0 --platform linux/amd64 --push-by-digest --to "docker://$A/acme/hello" --creds "$CA" || { ko "push by digest amd64"; show pa; }
h pb --json release "$EXT" --version 2.0.0 --platform linux/arm64 --push-by-digest --to "docker://$A/acme/hello" --creds "$CA" || { ko "push by digest arm64"; show pb; }
da=$(js pa 'print(r["digest"])'); db=$(js pb 'print(r["digest"])')
js pa 'assert len(r["sbom"]) == 1 and r["provenance"] and r["tags"] == [], r' && ok || { ko "push by digest attests"; show pa; }
before=$(writes regA)
h ix_bad index --to "docker://$A/acme/hello:2.0.0" "$da" "$db" --creds "$CA" --sign "$tmp/nope.key"; rc=$?
[ $rc = 2 ] && [ "$(writes regA)" = "$before" ] && ok || { ko "index with a missing key (exit $rc) or it wrote"; show ix_bad; }
h ix --json index --to "docker://$A/acme/hello:2.0.0" "$da" "$db" --creds "$CA" --sign "$tmp/k.key" --latest \
  && js ix 'assert r["signed"]["manifests"] == 3 and "latest" in r["tags"], r' && ok || { ko "index --sign"; show ix; }
h v_ix verify "docker://$A/acme/hello:2.0.0" --key "$tmp/k.pub" --creds "$CA" && ok || { ko "the index's signature"; show v_ix; }
vpy "$urlA" PWA acme/hello 2.0.0 "$tmp/k.pub" "$A/acme/hello" && ok || ko "cosign_verify.py refuses the index's signature"
h refs_ix --json referrers "docker://$A/acme/hello:2.0.0" --platforms --creds "$CA"
js refs_ix 'assert all([x["artifactType"] for x in d["referrers"]] == ["application/spdx+json"] for d in r["platforms"].values()), r' \
  && ok || { ko "the platform SBOMs are not found from the index"; show refs_ix; }
# the index's own provenance (hoist index as the builder, each platform image an input)
js ix 'assert r["provenance"] and r["provenance"].startswith("sha256:"), r' && ok || { ko "index attaches no provenance"; show ix; }
js refs_ix 'assert [x["artifactType"] for x in r["referrers"]] == ["application/vnd.in-toto+json"], r' \
  && ok || { ko "the index's provenance is not among its referrers"; show refs_ix; }

# --- 9. GitHub Actions: annotations and the step summary -------------------------------------------
cp -r "$EXT" "$tmp/bad" && sed -i 's/vendor = .*/vendor = "",/' "$tmp/bad/extension.lua"
line=$(grep -n 'vendor = ""' "$tmp/bad/extension.lua" | cut -d: -f1)
(cd "$tmp" && GITHUB_ACTIONS=true GITHUB_WORKSPACE=$tmp GITHUB_STEP_SUMMARY=$tmp/summary.md \
  "$HOIST" release bad --version 1.0.0 --to "oci:$tmp/o" >"$tmp/logs/gh_bad.out" 2>"$tmp/logs/gh_bad.err"); rc=$?
[ $rc = 3 ] && grep -q "^::error file=bad/extension.lua,line=$line,title=hoist release::(required) image label" "$tmp/logs/gh_bad.err" \
  && ok || { ko "annotation with the line of extension.lua (exit $rc, line $line)"; show gh_bad; }
grep -q "^### hoist release 1.0.0 failed" "$tmp/summary.md" && ok || ko "failure summary"
h no_gh release "$tmp/bad" --version 1.0.0 --to "oci:$tmp/o"
grep -q "^::" "$tmp/logs/no_gh.err" && ko "annotations without GITHUB_ACTIONS" || ok
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$tmp/summary.md h gh_ok release "$EXT" --version 3.0.0 --to "docker://$A/acme/hello" --creds "$CA" --sign "$tmp/k.key" \
  && grep -q "^### hoist release 3.0.0" "$tmp/summary.md" && grep -q "^| signed | as \`$A/acme/hello\`" "$tmp/summary.md" \
  && grep -q "^| SBOM linux/arm64 | \`sha256:" "$tmp/summary.md" && ok || { ko "release summary"; show gh_ok; cat "$tmp/summary.md"; }

# --- secrets: never printed ------------------------------------------------------------------------
if grep -l -e "$SECRET" -e "$WRONG" -e "$PWA" -e "$PWB" "$tmp"/logs/* "$tmp/summary.md" 2>/dev/null; then ko "a secret was printed"; else ok; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
