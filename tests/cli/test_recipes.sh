#!/bin/sh
# The image recipes on OCI layouts (no registry): tags, updates, inspect, copy, index, validate.
# usage: test_recipes.sh PATH/TO/hoist   (the same recipes against a registry: tests/registry)
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
. "$ROOT/tests/check.sh"

cp -r "$ROOT/examples/hello-extension" "$tmp/ext"
L="oci:$tmp/lay"
for v in 1.0.0 1.1.0 2.0.0-rc.1; do
  run 0 "$HOIST" release "$tmp/ext" --version $v --to "$L" --latest
done
# a release whose label asks for a newer Extension API
sed 's/api_version = ">= 0.3.3"/api_version = ">= 0.4.0"/' "$ROOT/examples/hello-extension/extension.lua" >"$tmp/ext/extension.lua"
grep -q '">= 0.4.0"' "$tmp/ext/extension.lua" || { echo "FAIL: could not edit the api version"; exit 1; }
run 0 "$HOIST" release "$tmp/ext" --version 1.2.0 --to "$L" --latest

# tags: all in layout order; --semver: valid versions only, lowest to highest
run 0 "$HOIST" tags "$L";                  expect out '^latest$'; expect out '^1\.2\.0$'
run 0 "$HOIST" tags "$L" --semver;         same out "$(printf '1.0.0\n1.1.0\n1.2.0\n2.0.0-rc.1')"
run 0 "$HOIST" --json tags "$L" --semver;  same out '["1.0.0","1.1.0","1.2.0","2.0.0-rc.1"]'
run 1 "$HOIST" tags "oci:$tmp/nowhere";    expect err "is not an OCI image layout"
run 2 "$HOIST" tags;                       expect err 'usage: hoist tags'

# updates: newer than current, newest first; --api filters on the api.version label
run 0 "$HOIST" updates "$L" --current 1.0.0; same out "$(printf '2.0.0-rc.1\n1.2.0\n1.1.0')"
run 0 "$HOIST" updates "$L" --current 1.0.0 --api 0.3.3; same out "$(printf '2.0.0-rc.1\n1.1.0')"
run 0 "$HOIST" updates "$L" --current v1.0.0 --api 0.4.1 --json
py out 'assert r == {"current": "1.0.0", "api": "0.4.1", "updates": ["2.0.0-rc.1", "1.2.0", "1.1.0"]}, r'
run 0 "$HOIST" updates "$L" --current 1.0.0 --api 0.3.0; same out ""
run 0 "$HOIST" updates "$L" --current 9.0.0;  same out ""
run 2 "$HOIST" updates "$L";                  expect err -- '--current V is required'
run 2 "$HOIST" updates "$L" --current 1.x;    expect err "invalid version '1.x'"
run 2 "$HOIST" updates "$L" --current 1.0.0 --api nope; expect err "invalid Extension API version 'nope'"

# inspect: the index bytes exactly as stored (their digest is the tag's), configs with --config
run 0 "$HOIST" inspect "$L:1.1.0"
digest=$(tail -n1 "$tmp/err")
got=sha256:$(head -c -1 "$tmp/out" | sha256sum | cut -d' ' -f1)
[ "$digest" = "$got" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: inspect bytes $got != $digest"; }
py out 'assert r["mediaType"] == "application/vnd.oci.image.index.v1+json" and len(r["manifests"]) == 2, r'
run 0 "$HOIST" inspect "$L:1.1.0" --config
py out 'assert sorted(r["platforms"]) == ["linux/amd64", "linux/arm64"] and r["platforms"]["linux/arm64"]["config"]["architecture"] == "arm64" and r["platforms"]["linux/amd64"]["config"]["config"]["Labels"]["org.opencontainers.image.version"] == "1.1.0", r'
run 1 "$HOIST" inspect "$L:9.9.9";         expect err "tag '9.9.9' not found"

# copy: all platforms, byte-identical manifests, tag kept or renamed; a docker-archive gets one platform
run 0 "$HOIST" --json copy "$L:1.1.0" "oci:$tmp/copy"
py out 'assert r["tags"] == ["1.1.0"] and r["manifests"] == 3 and r["blobs"]["uploaded"] > 0, r'
run 0 "$HOIST" validate "oci:$tmp/copy:1.1.0"
run 0 "$HOIST" --json copy "$L:1.1.0" "oci:$tmp/copy:stable"
py out 'assert r["tags"] == ["stable"] and r["blobs"]["uploaded"] == 0 and r["blobs"]["existing"] > 0, r'
run 0 "$HOIST" inspect "oci:$tmp/copy:stable"; cp "$tmp/out" "$tmp/a"
run 0 "$HOIST" inspect "$L:1.1.0"
cmp -s "$tmp/a" "$tmp/out" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: copied index differs"; }
run 0 "$HOIST" copy "$L:1.1.0" "docker-archive:$tmp/one.tar:acme/hello:1.1.0" --platform linux/arm64
tar -xOf "$tmp/one.tar" manifest.json >"$tmp/m.json" 2>/dev/null
py m.json 'assert r[0]["RepoTags"] == ["acme/hello:1.1.0"] and len(r[0]["Layers"]) >= 1, r'
run 2 "$HOIST" copy "$L:1.1.0" "docker-archive:$tmp/x.tar" --platform linux/s390x
expect err 'has no linux/s390x image'
[ ! -e "$tmp/x.tar" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a partial archive was left"; }
run 2 "$HOIST" copy "docker-archive:$tmp/one.tar" "oci:$tmp/y"; expect err 'write-only'
run 2 "$HOIST" copy "$L:1.1.0";            expect err 'usage: hoist copy'
run 1 "$HOIST" copy "$L:nope" "oci:$tmp/z"; expect err "tag 'nope' not found"
[ ! -e "$tmp/z/index.json" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a failed copy wrote an index"; }

# index: per-platform releases pushed by digest, assembled, validated, tagged
for p in amd64 arm64; do
  run 0 "$HOIST" --json release "$ROOT/examples/hello-extension" --version 3.0.0 --platform linux/$p \
    --push-by-digest --to "oci:$tmp/$p"
  py out 'assert r["tags"] == [] and r["digest"].startswith("sha256:"), r'
  eval "d_$p=\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"digest\"])' \"$tmp/out\")"
done
run 3 "$HOIST" index --to "oci:$tmp/fin:3.0.0" "oci:$tmp/amd64@$d_amd64"
expect err 'platform "linux/arm64" is missing'; expect err 'nothing was tagged'
[ ! -e "$tmp/fin/index.json" ] || ! grep -q '3.0.0' "$tmp/fin/index.json" && passed=$((passed + 1)) \
  || { failed=$((failed + 1)); echo "FAIL: a failed index was tagged"; }
run 0 "$HOIST" --json index --to "oci:$tmp/fin:3.0.0" "oci:$tmp/amd64@$d_amd64" "oci:$tmp/arm64@$d_arm64" --latest --float
py out 'assert r["tags"] == ["3.0.0", "latest", "3", "3.0"] and sorted(r["platforms"]) == ["linux/amd64", "linux/arm64"], r'
run 0 "$HOIST" validate "oci:$tmp/fin:3.0.0"
# the same index again: the version tag already points at it, so this only finishes the tags
run 0 "$HOIST" --json index --to "oci:$tmp/fin:3.0.0" "oci:$tmp/amd64@$d_amd64" "oci:$tmp/arm64@$d_arm64"
py out 'assert r["tags"] == ["3.0.0"], r'
# other content under the same version (built at another time): refused without --force
for p in amd64 arm64; do
  run 0 env SOURCE_DATE_EPOCH=100 "$HOIST" --json release "$ROOT/examples/hello-extension" --version 3.0.0 \
    --platform linux/$p --push-by-digest --to "oci:$tmp/${p}c"
  eval "d_${p}c=\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"digest\"])' \"$tmp/out\")"
done
run 1 "$HOIST" index --to "oci:$tmp/fin:3.0.0" "oci:$tmp/amd64c@$d_amd64c" "oci:$tmp/arm64c@$d_arm64c"
expect err 'already exists at .* \(use --force'
run 0 "$HOIST" index --to "oci:$tmp/fin:3.0.0" "oci:$tmp/amd64c@$d_amd64c" "oci:$tmp/arm64c@$d_arm64c" --force
# a tag the images were not built as: their version label says 3.0.0
run 3 "$HOIST" index --to "oci:$tmp/fin:5.0.0" "oci:$tmp/amd64@$d_amd64" "oci:$tmp/arm64@$d_arm64"
expect err 'is labelled version "3.0.0", not 5.0.0'; expect err 'nothing was tagged'
! grep -q '"5.0.0"' "$tmp/fin/index.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: 5.0.0 was tagged"; }
run 0 "$HOIST" index --to "oci:$tmp/fin:5.0.0" "oci:$tmp/amd64@$d_amd64" "oci:$tmp/arm64@$d_arm64" --force
run 2 "$HOIST" index --to "oci:$tmp/fin" "oci:$tmp/amd64@$d_amd64"; expect err 'give the version tag'
run 2 "$HOIST" index --to "oci:$tmp/fin:latest" "oci:$tmp/amd64@$d_amd64"; expect err "invalid version tag 'latest'"
run 0 "$HOIST" --json release "$ROOT/examples/hello-extension" --version 3.0.1 --platform linux/amd64 \
  --push-by-digest --to "oci:$tmp/amd64b"
d_b=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$tmp/out")
run 2 "$HOIST" index --to "oci:$tmp/fin:3.0.1" "oci:$tmp/amd64@$d_amd64" "oci:$tmp/amd64b@$d_b"
expect err 'two sources give linux/amd64'
run 1 "$HOIST" index --to "oci:$tmp/fin:3.0.1" "oci:$tmp/amd64@$d_arm64"; expect err "is not in oci:"
run 2 "$HOIST" index --to "oci:$tmp/fin:3.0.1";  expect err 'give at least one source'

# a reference without a transport is not taken for Docker Hub: exit 2 with a suggestion
run 2 "$HOIST" copy "$L:1.1.0" dist/other;          expect err "did you mean oci:dist/other\?"
run 2 "$HOIST" validate localhost:5000/acme/ext;     expect err "did you mean docker://localhost:5000/acme/ext\?"
run 2 "$HOIST" release "$ROOT/examples/hello-extension" --version 9.9.9 --to dist/other; expect err "did you mean oci:dist/other\?"
run 2 "$HOIST" validate "oci:$tmp/fin@sha256:zz";    expect err "invalid|malformed|digest"
# a copy into a layout names what it writes; a version tag there is immutable unless --force
idx0=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$tmp/fin/index.json")
run 2 "$HOIST" copy "oci:$tmp/fin@$idx0" "oci:$tmp/untagged"; expect err "give the tag the copy writes"
run 0 "$HOIST" copy "$L:1.1.0" "oci:$tmp/cp-imm:1.0.0"
run 1 "$HOIST" copy "$L:1.2.0" "oci:$tmp/cp-imm:1.0.0";  expect err "tag '1.0.0' already exists"
run 0 "$HOIST" copy "$L:1.2.0" "oci:$tmp/cp-imm:1.0.0" --force
run 0 "$HOIST" copy "$L:1.2.0" "oci:$tmp/cp-imm:latest"
run 0 "$HOIST" copy "$L:1.1.0" "oci:$tmp/cp-imm:latest"    # a non-version tag moves
skopeo inspect --raw "oci:$tmp/cp-imm:1.0.0" >/dev/null 2>&1 && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: skopeo cannot open the copy"; }

# validate by digest (no tag to check)
idx=$(python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]=="3.0.0"][0])' "$tmp/fin/index.json")
run 0 "$HOIST" validate "oci:$tmp/fin@$idx"

# promote: validated, newer than production's latest, latest moved; refusals leave production as it was
P="oci:$tmp/prod"
run 0 "$HOIST" --json promote "$L:1.1.0" "$P"
py out 'assert r["tags"] == ["1.1.0", "latest"] and r.get("previous") is None, r'
run 0 "$HOIST" validate "$P:1.1.0"
run 1 "$HOIST" promote "$L:1.0.0" "$P";        expect err "1.0.0 is not newer than oci:.*prod's 1.1.0"
run 1 "$HOIST" promote "$L:1.1.0" "$P";        expect err 'already exists \(use --force'
run 0 "$HOIST" --json promote "$L:2.0.0-rc.1" "$P"
py out 'assert r["tags"] == ["2.0.0-rc.1"] and r["previous"] == "1.1.0", r'
run 0 "$HOIST" --json promote "$L:1.2.0" "$P" --float --force
py out 'assert r["tags"] == ["1.2.0", "latest", "1", "1.2"], r'
run 0 "$HOIST" --json tags "$P" --semver;      py out 'assert r == ["1.1.0", "1.2.0", "2.0.0-rc.1"], r'
# an image that does not validate (one platform) is refused with exit 3 and copies nothing
run 0 "$HOIST" --json copy "oci:$tmp/amd64@$d_amd64" "oci:$tmp/single:3.0.0"
run 3 "$HOIST" promote "oci:$tmp/single:3.0.0" "oci:$tmp/prod2"; expect err 'linux/arm64" is missing'
[ ! -e "$tmp/prod2/index.json" ] || ! grep -q 3.0.0 "$tmp/prod2/index.json" && passed=$((passed + 1)) \
  || { failed=$((failed + 1)); echo "FAIL: a refused promotion wrote a tag"; }
run 2 "$HOIST" promote "$L" "$P";              expect err 'SRC:VERSION'
run 2 "$HOIST" promote "$L:1.1.0" "$P:1.1.0";  expect err 'without a tag'

# init: a scaffold that refuses to release until its placeholders are filled, then releases
run 0 "$HOIST" init "$tmp/fresh" --title "Fresh Tool"
for f in extension.lua metadata.json docker.svg ui/index.html; do
  [ -s "$tmp/fresh/$f" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: init wrote no $f"; }
done
run 3 "$HOIST" release "$tmp/fresh" --version 0.1.0 --to "oci:$tmp/fresh-out"
expect err 'labels.vendor is still a placeholder: fill in who publishes it'
expect err 'labels.screenshots\[1\].url is still a placeholder'
! grep -q 'not an http' "$tmp/err" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a placeholder was reported twice"; }
sed -i 's|"<fill in: one line[^"]*"|"A fresh tool"|; s|"<fill in: who[^"]*"|"Acme"|;
  s|"<fill in: https URL of the icon[^"]*"|"https://acme.example/i.svg"|; s|alt = "<fill in[^"]*"|alt = "main"|;
  s|url = "<fill in[^"]*"|url = "https://acme.example/1.png"|; s|"<fill in: a few[^"]*"|"<p>Fresh.</p>"|;
  s|"<fill in: https URL of your site>"|"https://acme.example"|' "$tmp/fresh/extension.lua"
run 0 "$HOIST" release "$tmp/fresh" --version 0.1.0 --to "oci:$tmp/fresh-out"
run 0 "$HOIST" validate "oci:$tmp/fresh-out:0.1.0"
run 1 "$HOIST" init "$tmp/fresh";             expect err 'is not empty'
run 2 "$HOIST" init "$tmp/x" --name 'Bad Name'; expect err "invalid --name 'Bad Name'"

finish recipes
