#!/usr/bin/env bash
# Docker's rules (docs/validation.md) on images in the real registry: a private extension released
# there, validated with and without --private, promoted with --private; an index holding buildx's
# attestation manifests validated from the registry (a warning, an error with --strict) without
# downloading the attestations' layers (the registry's access log); a linux/arm/v7 entry refused
# by name. Nothing is tagged by a refused promote or index.
# usage: test_rules_registry.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/reg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
. "$ROOT/tests/check.sh"
mark() { wc -l <"$REG/log"; }
blob_gets() { tail -n +"$(($1 + 1))" "$REG/log" | grep -o '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]*' | sed 's|.*/blobs/||'; }

REG=$tmp/reg
registry_start basic "$REG" >/dev/null; rc=$?
[ $rc -eq 0 ] || exit $rc
host=$(sed 's|http://||' "$REG/url")
pw=$(cat "$REG/password")
set -- --creds "hoist:$pw"

# a private extension: no changelog, no screenshots (the Marketplace's labels), marketplace = false
cp -r "$ROOT/examples/hello-extension" "$tmp/priv"
sed -e 's/changelog = "<p>First release.<\/p>",//' -e 's/^return {/return { marketplace = false,/' \
  "$ROOT/examples/hello-extension/extension.lua" >"$tmp/priv/extension.lua"
grep -q 'marketplace = false' "$tmp/priv/extension.lua" && ! grep -q changelog "$tmp/priv/extension.lua" \
  || { echo "could not make the private extension"; exit 1; }
P="docker://$host/team/private"
run 0 "$HOIST" release "$tmp/priv" --version 1.0.0 --to "$P" "$@"
expect err '^warning: \(required\) image label "com.docker.extension.changelog" is missing \(the Marketplace needs it'
run 3 "$HOIST" validate "$P:1.0.0" "$@";            expect err '"com.docker.extension.changelog" is missing'
run 0 "$HOIST" validate --private "$P:1.0.0" "$@";  expect err '^warning: .*com.docker.extension.changelog'
run 0 "$HOIST" --json validate --private "$P:1.0.0" "$@"
py out 'assert r["valid"] and len(r["warnings"]) == 1 and "changelog" in r["warnings"][0], r'
run 3 "$HOIST" validate --private --strict "$P:1.0.0" "$@"
run 3 "$HOIST" validate --private --sdk 0.3.2 "$P:1.0.0" "$@"
expect err 'is incompatible with current SDK version "0.3.2". Consider changing it to ">=0.3.2"'
# promote: refused without --private (nothing tagged), done with it
run 3 "$HOIST" promote "$P:1.0.0" "docker://$host/team/prod" "$@"; expect err 'nothing was promoted'
run 0 "$HOIST" --json tags "docker://$host/team/prod" "$@";          py out 'assert r == [], r'
run 0 "$HOIST" --json promote --private "$P:1.0.0" "docker://$host/team/prod" "$@"
py out 'assert r["tags"] == ["1.0.0", "latest"] and len(r["warnings"]) == 1, r'

# buildx's attestation manifests in an index pushed to the registry
run 0 "$HOIST" release "$ROOT/examples/hello-extension" --version 1.0.0 --to "oci:$tmp/lay"
python3 "$ROOT/tests/integration/index_entry.py" "$tmp/lay" 1.0.0 attestation-amd64 || ko "index_entry.py"
python3 "$ROOT/tests/integration/index_entry.py" "$tmp/lay" 1.0.0 attestation-arm64 || ko "index_entry.py"
A="docker://$host/acme/attested"
run 0 "$HOIST" copy "oci:$tmp/lay:1.0.0" "$A:1.0.0" "$@"
run 0 "$HOIST" --json inspect "$A:1.0.0" "$@"
py out 'assert [m["platform"]["os"] for m in r["manifests"]] == ["linux", "linux", "unknown", "unknown"], r'
att_layers=$(python3 -c 'import json,sys
idx=json.load(open(sys.argv[1]))
lay=sys.argv[2]
for m in idx["manifests"]:
    if m["platform"]["os"] == "unknown":
        man=json.load(open(lay + "/blobs/sha256/" + m["digest"][7:]))
        for l in man["layers"]: print(l["digest"][7:])' "$tmp/out" "$tmp/lay")
[ "$(printf '%s\n' "$att_layers" | grep -c .)" -eq 2 ] && ok || ko "the attestations' layers: $att_layers"
m=$(mark)
run 0 "$HOIST" validate "$A:1.0.0" "$@"
expect err '^warning: index entry 3 \(sha256:[0-9a-f]+\) is an attestation manifest \(platform unknown/unknown\)'
expect err '^warning: index entry 4 .*docker/extensions-sdk#305'
blob_gets "$m" >"$tmp/gets"
[ -s "$tmp/gets" ] && ok || ko "validate downloaded nothing (the log format changed?)"
for l in $att_layers; do ! grep -q "$l" "$tmp/gets" && ok || ko "validate downloaded an attestation layer"; done
run 3 "$HOIST" validate --strict "$A:1.0.0" "$@";    expect err 'docker/extensions-sdk#305'
# index from that source: kept with warnings; --strict refuses and tags nothing
run 3 "$HOIST" index --strict --to "docker://$host/acme/final:1.0.0" "$A:1.0.0" "$@"; expect err 'nothing was tagged'
run 0 "$HOIST" --json tags "docker://$host/acme/final" "$@";  py out 'assert r == [], r'
run 0 "$HOIST" --json index --to "docker://$host/acme/final:1.0.0" "$A:1.0.0" "$@"
py out 'assert r["tags"] == ["1.0.0"] and len(r["warnings"]) == 2, r'
# a linux/arm/v7 entry is refused, named
python3 "$ROOT/tests/integration/index_entry.py" "$tmp/lay" 1.0.0 armv7 || ko "index_entry.py"
run 0 "$HOIST" copy "oci:$tmp/lay:1.0.0" "$A:1.0.1" "$@"
run 3 "$HOIST" validate "$A:1.0.1" "$@";  expect err 'index entry 5 \(linux/arm/v7, sha256:[0-9a-f]+\) is not an image for linux/amd64 or linux/arm64'

finish rules_registry
