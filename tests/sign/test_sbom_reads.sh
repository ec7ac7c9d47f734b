#!/bin/sh
# A release with SBOMs reads no layer back: the file lists come from the hashes hoist recorded
# while it wrote each layer (CACHE/files/<hex>.json, written by oci.layers), not from reading the
# layer blobs again (hoist.sign.core.layer_files, the one way hoist reads a layer's files).
#
# `hoist release` runs through a wrapper recipe found first on HOIST_PATH: it counts every blob
# path handed to hoist.sign.core.layer_files into a file, then runs the real scripts/release.lua
# with the same arguments. Checked: releases into a layout (--sbom) and a registry (SBOMs by
# default) read nothing; their SBOMs are right (check_sbom.py against `umoci unpack`); a release
# whose layers come from the layer cache reads nothing either; and a control: with the file
# records removed the same release reads each layer once (so the counter does see reads), writes
# the records back, and makes SBOMs listing the same files.
# usage: test_sbom_reads.sh PATH/TO/hoist
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
unset SOURCE_DATE_EPOCH HOIST_PATH
EXT="$ROOT/examples/hello-extension"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
show() { cat "$tmp/out" "$tmp/err"; }

mkdir "$tmp/wrap"
cat >"$tmp/wrap/release.lua" <<'LUA'
-- test wrapper: records the layer blobs hoist.sign.core.layer_files is asked to read
local sc = require("hoist.sign.core")
local real = sc.layer_files
sc.layer_files = function(paths, ...)
  local f = assert(io.open(assert(os.getenv("HOIST_TEST_READS")), "a"))
  for _, p in ipairs(paths) do f:write(p, "\n") end
  f:close()
  return real(paths, ...)
end
return assert(loadfile(require("hoist.host").share .. "/scripts/release.lua"))(...)
LUA
# release NAME CACHE ARGS...: a counted `hoist release` of the example; reads in $tmp/NAME.reads
release() {
  name=$1 cache=$2; shift 2
  : >"$tmp/$name.reads"
  HOIST_PATH="$tmp/wrap/?.lua" HOIST_TEST_READS="$tmp/$name.reads" XDG_CACHE_HOME="$cache" \
    "$HOIST" release "$EXT" "$@" >"$tmp/out" 2>"$tmp/err"
}
reads() { wc -l <"$tmp/$1.reads" | tr -d ' '; }

registry_start none "$tmp/reg" >/dev/null || exit $?
url=$(cat "$tmp/reg/url"); host=${url#http://}

# --- into a layout, SBOMs asked for, an empty cache
release lay "$tmp/cache-lay" --version 1.0.0 --to "oci:$tmp/layout" --sbom && ok || { ko "release to a layout"; show; }
grep -q "sbom" "$tmp/out" && ok || { ko "the layout release reports no SBOM"; show; }
[ "$(reads lay)" = 0 ] && ok || { ko "a layout release read $(reads lay) layer blobs back:"; cat "$tmp/lay.reads"; }
python3 "$HERE/sboms_of.py" "oci:$tmp/layout" 1.0.0 "$tmp/sbom-lay" >/dev/null && ok || ko "SBOMs in the layout"

# --- into a registry (SBOMs by default), an empty cache
release reg "$tmp/cache-reg" --version 1.0.0 --to "docker://$host/acme/hello" && ok || { ko "release to the registry"; show; }
[ "$(reads reg)" = 0 ] && ok || { ko "a registry release read $(reads reg) layer blobs back:"; cat "$tmp/reg.reads"; }
python3 "$HERE/sboms_of.py" "$url/acme/hello" 1.0.0 "$tmp/sbom-reg" >"$tmp/platforms" && ok || ko "SBOMs in the registry"
# each lists exactly the files of its image, as umoci extracts them
while read -r plat pd; do
  arch=${plat#linux/}
  skopeo copy -q --src-tls-verify=false "docker://$host/acme/hello@$pd" "oci:$tmp/back-$arch:img" >/dev/null 2>"$tmp/err" \
    && umoci unpack --rootless --image "$tmp/back-$arch:img" "$tmp/bundle-$arch" >/dev/null 2>>"$tmp/err" \
    || { ko "skopeo copy / umoci unpack $arch"; cat "$tmp/err"; continue; }
  python3 "$HERE/check_sbom.py" "$tmp/sbom-reg/sbom-linux-$arch.spdx.json" "$tmp/bundle-$arch/rootfs" \
    --image-digest "$pd" >"$tmp/chk" && ok || { ko "SBOM $plat"; cat "$tmp/chk"; }
done <"$tmp/platforms"
[ "$(wc -l <"$tmp/platforms")" -eq 2 ] && ok || ko "two platforms expected: $(cat "$tmp/platforms")"
same_files() {  # same_files DIR_A DIR_B: the SBOMs of both list the same files
  for arch in amd64 arm64; do
    python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); assert a["files"] and a["files"]==b["files"]' \
      "$1/sbom-linux-$arch.spdx.json" "$2/sbom-linux-$arch.spdx.json" || return 1
  done
}
same_files "$tmp/sbom-lay" "$tmp/sbom-reg" && ok || ko "layout and registry SBOMs list different files"

# --- every layer from the layer cache (the SBOM fragments dropped, so the file records are used)
rm -rf "$tmp/cache-reg/hoist/sbom"
XDG_CACHE_HOME="$tmp/cache-reg" "$HOIST" release "$EXT" --version 1.0.0 --to "docker://$host/acme/again" --dry-run >"$tmp/out" 2>"$tmp/err"
[ "$(grep -c ' layer [0-9]*:' "$tmp/out")" -eq 6 ] && [ "$(grep -c ' layer [0-9]*:.*(cached ' "$tmp/out")" -eq 6 ] \
  && ok || { ko "the dry run does not show six cached layers"; show; }
release cached "$tmp/cache-reg" --version 1.0.0 --to "docker://$host/acme/again" && ok || { ko "cached release"; show; }
[ "$(reads cached)" = 0 ] && ok || { ko "a release from the layer cache read $(reads cached) layer blobs back"; cat "$tmp/cached.reads"; }

# --- control: without the file records the same release reads each of its layers once
n_records=$(ls "$tmp/cache-reg/hoist/files" | wc -l)
[ "$n_records" -gt 0 ] && ok || ko "no file records in the cache"
rm -rf "$tmp/cache-reg/hoist/files" "$tmp/cache-reg/hoist/sbom"
release control "$tmp/cache-reg" --version 1.0.0 --to "docker://$host/acme/control" && ok || { ko "control release"; show; }
[ "$(reads control)" -eq "$n_records" ] && ok || ko "control: $(reads control) layer reads, expected $n_records (one per layer)"
[ "$(ls "$tmp/cache-reg/hoist/files" | wc -l)" -eq "$n_records" ] && ok || ko "control: the records were not written back"
python3 "$HERE/sboms_of.py" "$url/acme/control" 1.0.0 "$tmp/sbom-control" >/dev/null && same_files "$tmp/sbom-reg" "$tmp/sbom-control" \
  && ok || ko "SBOMs from recorded lists and from reading the blobs differ"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
