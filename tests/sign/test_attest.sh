#!/bin/sh
# SBOMs, provenance and referrers: hoist attest against a real docker-registry (no referrers API:
# the tag schema is what makes them discoverable) and an OCI layout. Every SBOM is checked as SPDX
# 2.3 and against the files `umoci unpack` extracts; provenance as in-toto v1 + SLSA v1.
# usage: test_attest.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
HOIST_REGISTRY_TOOLS=$ROOT/tests/registry
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
for t in python3 curl skopeo umoci; do
  command -v "$t" >/dev/null 2>&1 || { echo "skipped: $t is missing"; exit 77; }
done
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/reg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
unset SOURCE_DATE_EPOCH
EXT="$ROOT/examples/hello-extension"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
run() { "$HOIST" "$@" >"$tmp/out" 2>"$tmp/err"; }
show() { cat "$tmp/out" "$tmp/err"; }
digest_of() { python3 -c 'import hashlib,sys; print("sha256:"+hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'; }
ACCEPT="application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json"

registry_start none "$tmp/reg" >/dev/null || exit $?
url=$(cat "$tmp/reg/url"); host=${url#http://}
dest="docker://$host/acme/hello"
# --no-sbom --no-provenance: this test attaches them itself, with `hoist attest`
run release "$EXT" --version 1.0.0 --to "$dest" --no-sbom --no-provenance && ok || { ko "release"; show; exit 1; }
run release "$EXT" --version 1.0.0 --to "oci:$tmp/layout" && ok || { ko "release to a layout"; show; exit 1; }
index=$(curl -s -H "Accept: $ACCEPT" "$url/v2/acme/hello/manifests/1.0.0" | digest_of)
BASE="docker.io/library/busybox@sha256:$(printf base | sha256sum | cut -d' ' -f1)"
COMMIT=0123456789abcdef0123456789abcdef01234567

# --- registry ---------------------------------------------------------------------------------------
run --json attest "$dest:1.0.0" --base "$BASE" --extension "$EXT/extension.lua" --version 1.0.0 \
  --commit "$COMMIT" --source "git+https://example.invalid/acme/hello" --input "ui@sha256:$(printf ui | sha256sum | cut -d' ' -f1)" \
  --out "$tmp/docs1" && ok || { ko "attest to the registry"; show; }
cp "$tmp/out" "$tmp/attest1.json"
# the registry has no referrers API, so the tag schema is what finds them
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/acme/hello/referrers/$index")
[ "$code" = 404 ] && ok || ko "the registry answered $code to the referrers API: this test assumes it has none"
python3 - "$url" "$index" "$tmp/docs1" "$tmp/attest1.json" <<'PY' && ok || ko "referrers tag schema on the registry"
import hashlib, json, sys, urllib.request
url, index, docs, res = sys.argv[1], sys.argv[2], sys.argv[3], json.load(open(sys.argv[4]))
A = "application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json"
def get(path, accept=A):
    req = urllib.request.Request(url + "/v2/acme/hello/" + path, headers={"Accept": accept})
    return urllib.request.urlopen(req).read()
top = json.loads(get("manifests/" + index))
subjects = {index: ("application/vnd.in-toto+json", "provenance.intoto.json")}
for m in top["manifests"]:
    p = m["platform"]["os"] + "-" + m["platform"]["architecture"]
    subjects[m["digest"]] = ("application/spdx+json", "sbom-" + p + ".spdx.json")
for subject, (atype, fname) in subjects.items():
    ref = json.loads(get("manifests/" + subject.replace(":", "-")))
    assert ref["mediaType"] == "application/vnd.oci.image.index.v1+json", ref
    entries = [e for e in ref["manifests"] if e.get("artifactType") == atype]
    assert len(entries) == 1, (subject, ref)
    e = entries[0]
    body = get("manifests/" + e["digest"])
    assert "sha256:" + hashlib.sha256(body).hexdigest() == e["digest"] and len(body) == e["size"]
    am = json.loads(body)
    assert am["artifactType"] == atype and am["subject"]["digest"] == subject, am
    assert am["config"] == {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2,
                            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}, am["config"]
    assert get("blobs/" + am["config"]["digest"]) == b"{}"
    data = open(docs + "/" + fname, "rb").read()
    assert get("blobs/" + am["layers"][0]["digest"]) == data, fname
    # the extension's own index lists platforms only
    assert e["digest"] not in [m["digest"] for m in top["manifests"]]
assert all("platform" in m for m in top["manifests"]) and len(top["manifests"]) == 2
PY
# the image itself is untouched and still valid
[ "$(curl -s -H "Accept: $ACCEPT" "$url/v2/acme/hello/manifests/1.0.0" | digest_of)" = "$index" ] && ok || ko "the index changed"
run validate "$dest:1.0.0" && ok || { ko "validate after attest"; show; }
# hoist referrers finds them all
run --json referrers "$dest:1.0.0" --platforms && python3 - "$tmp/out" <<'PY' && ok || { ko "hoist referrers"; show; }
import json, sys
r = json.load(open(sys.argv[1]))
assert [x["artifactType"] for x in r["referrers"]] == ["application/vnd.in-toto+json"], r
assert sorted(r["platforms"]) == ["linux/amd64", "linux/arm64"], r
for p in r["platforms"].values():
    assert [x["artifactType"] for x in p["referrers"]] == ["application/spdx+json"], p
PY
# every SBOM matches the files umoci extracts from that platform image, read back with skopeo
for arch in amd64 arm64; do
  pd=$(python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"]==sys.argv[1]][0])' "$arch" \
       <"$tmp/layout/blobs/sha256/${index#sha256:}")
  skopeo copy -q --src-tls-verify=false "docker://$host/acme/hello@$pd" "oci:$tmp/back-$arch:img" >/dev/null 2>"$tmp/err" \
    && umoci unpack --rootless --image "$tmp/back-$arch:img" "$tmp/bundle-$arch" >/dev/null 2>>"$tmp/err" \
    || { ko "skopeo copy / umoci unpack $arch"; cat "$tmp/err"; continue; }
  python3 "$HERE/check_sbom.py" "$tmp/docs1/sbom-linux-$arch.spdx.json" "$tmp/bundle-$arch/rootfs" \
    --base "$BASE" --image-digest "$pd" >"$tmp/chk" && ok || { ko "SBOM linux/$arch"; cat "$tmp/chk"; }
done
# a negative control: the checker notices an SBOM of other files
python3 "$HERE/check_sbom.py" "$tmp/docs1/sbom-linux-amd64.spdx.json" "$ROOT/tests/sign" >/dev/null \
  && ko "check_sbom.py accepted an SBOM of another file tree" || ok
# provenance: in-toto v1 Statement, SLSA provenance v1 predicate
python3 - "$tmp/docs1/provenance.intoto.json" "$index" "$EXT/extension.lua" "$COMMIT" "$BASE" "$dest:1.0.0" <<'PY' && ok || ko "provenance"
import hashlib, json, sys
st = json.load(open(sys.argv[1]))
index, ext, commit, base, dest = sys.argv[2:7]
assert st["_type"] == "https://in-toto.io/Statement/v1"
assert st["predicateType"] == "https://slsa.dev/provenance/v1"
assert st["subject"] == [{"name": dest.split("//")[1].rsplit(":", 1)[0], "digest": {"sha256": index.split(":")[1]}}], st["subject"]
bd, rd = st["predicate"]["buildDefinition"], st["predicate"]["runDetails"]
assert set(st["predicate"]) == {"buildDefinition", "runDetails"}
assert bd["buildType"] and bd["externalParameters"] == {"version": "1.0.0", "destination": dest}, bd
deps = bd["resolvedDependencies"]
ext_sha = hashlib.sha256(open(ext, "rb").read()).hexdigest()
assert {"name": "extension.lua", "digest": {"sha256": ext_sha}} in deps, deps
assert any(d.get("digest") == {"gitCommit": commit} and d["uri"].endswith("@" + commit) for d in deps), deps
assert any(d.get("digest") == {"sha256": base.split(":")[-1]} and d["name"] == base.split("@")[0] for d in deps), deps
assert any(d["name"] == "ui" for d in deps), deps
assert "hoist" in rd["builder"]["id"] and rd["builder"]["version"]["hoist"]
assert "metadata" not in rd, "a time without SOURCE_DATE_EPOCH"
PY
# attaching the same documents again changes nothing
tagidx=$(curl -s -H "Accept: $ACCEPT" "$url/v2/acme/hello/manifests/$(echo "$index" | sed 's/:/-/')" | digest_of)
run --json attest "$dest:1.0.0" --base "$BASE" --extension "$EXT/extension.lua" --version 1.0.0 \
  --commit "$COMMIT" --source "git+https://example.invalid/acme/hello" --input "ui@sha256:$(printf ui | sha256sum | cut -d' ' -f1)" \
  --out "$tmp/docs2" && ok || { ko "attest again"; show; }
for f in "$tmp"/docs1/*; do cmp -s "$f" "$tmp/docs2/$(basename "$f")" || ko "$(basename "$f") is not reproducible"; done
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert not r["provenance"]["added"] and not any(s["added"] for s in r["sbom"]), r' "$tmp/out" \
  && [ "$(curl -s -H "Accept: $ACCEPT" "$url/v2/acme/hello/manifests/$(echo "$index" | sed 's/:/-/')" | digest_of)" = "$tagidx" ] \
  && ok || { ko "a second attest changed the referrers"; show; }
# SOURCE_DATE_EPOCH gives the documents their time
SOURCE_DATE_EPOCH=1700000000 run attest "$dest:1.0.0" --dry-run --out "$tmp/docs3" && ok || { ko "attest --dry-run"; show; }
grep -q '"created":"2023-11-14T22:13:20Z"' "$tmp/docs3/sbom-linux-amd64.spdx.json" \
  && grep -q '"startedOn":"2023-11-14T22:13:20Z"' "$tmp/docs3/provenance.intoto.json" && ok || ko "SOURCE_DATE_EPOCH not used"
grep -q '"created":"1970-01-01T00:00:00Z"' "$tmp/docs1/sbom-linux-amd64.spdx.json" && ok || ko "an SBOM without SOURCE_DATE_EPOCH has a wall-clock time"

# --- OCI layout ----------------------------------------------------------------------------------------
run attest "oci:$tmp/layout:1.0.0" --out "$tmp/docs4" && ok || { ko "attest a layout"; show; }
python3 - "$tmp/layout" "$index" <<'PY' && ok || ko "referrers tag schema in the layout"
import json, sys
root, index = sys.argv[1], sys.argv[2]
idx = json.load(open(root + "/index.json"))
tags = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
top = json.load(open(root + "/blobs/sha256/" + index.split(":")[1]))
assert tags["1.0.0"]["digest"] == index
for d in [index] + [m["digest"] for m in top["manifests"]]:
    ref = json.load(open(root + "/blobs/sha256/" + tags[d.replace(":", "-")]["digest"].split(":")[1]))
    for e in ref["manifests"]:
        am = json.load(open(root + "/blobs/sha256/" + e["digest"].split(":")[1]))
        assert am["subject"]["digest"] == d and am["artifactType"] == e["artifactType"]
PY
run referrers "oci:$tmp/layout:1.0.0" --platforms && [ "$(grep -c 'application/spdx+json' "$tmp/out")" = 2 ] \
  && [ "$(grep -c 'application/vnd.in-toto+json' "$tmp/out")" = 1 ] && ok || { ko "hoist referrers oci:"; show; }
run validate "oci:$tmp/layout:1.0.0" && ok || { ko "validate the layout after attest"; show; }
# the layout's SBOMs list the registry's files (the same images; names and times differ)
cmp -s "$tmp/docs4/sbom-linux-arm64.spdx.json" "$tmp/docs3/sbom-linux-arm64.spdx.json" \
  && ko "SOURCE_DATE_EPOCH changed nothing" || ok
python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); assert a["files"]==b["files"] and a["packages"][0]["packageVerificationCode"]==b["packages"][0]["packageVerificationCode"]' \
  "$tmp/docs4/sbom-linux-arm64.spdx.json" "$tmp/docs1/sbom-linux-arm64.spdx.json" && ok || ko "layout and registry SBOMs differ"

# --- layers with whiteouts, opaque folders, hard links --------------------------------------------
python3 "$HERE/make_layered_image.py" "$tmp/layered" >"$tmp/layered.digest"
run attest "oci:$tmp/layered:1.0.0" --no-provenance --out "$tmp/docs5" && ok || { ko "attest the layered image"; show; }
umoci unpack --rootless --image "$tmp/layered:1.0.0" "$tmp/bundle-layered" >/dev/null 2>"$tmp/err" || { ko "umoci unpack layered"; cat "$tmp/err"; }
python3 "$HERE/check_sbom.py" "$tmp/docs5/sbom-image.spdx.json" "$tmp/bundle-layered/rootfs" \
  --image-digest "$(cat "$tmp/layered.digest")" >"$tmp/chk" && ok || { ko "SBOM of the layered image"; cat "$tmp/chk"; }

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
