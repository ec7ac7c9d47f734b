#!/bin/sh
# shellcheck disable=SC2016  # sh -c scripts in single quotes take their arguments as $1
# Round trip of `hoist release` through independent tools (DESIGN.md sections 2 and 5, issue 3):
# an extension with awkward content (symlinks, an empty folder, a 200-character path, UTF-8 names,
# 0755/0644 modes, a 3 MB binary, a hard link pair) is released to an OCI layout, then
#   - every blob is checked against its digest and size, and every index, manifest and config
#     with `oci-image-tool validate`;
#   - each platform is picked with `skopeo copy --override-arch`, unpacked with
#     `umoci unpack --rootless`, and the tree compared with the expected one byte for byte
#     (types, modes, symlink targets, hard links);
#   - the labels are read back with `skopeo inspect --config`, identical for both platforms;
#   - a second release after changing every mtime gives the same index digest, and
#     SOURCE_DATE_EPOCH changes it.
# usage: test_release_roundtrip.sh PATH/TO/hoist
# Needs: skopeo, umoci, oci-image-tool, jq (python3 is used when jq is missing), GNU find/tar.
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
for tool in skopeo umoci oci-image-tool gzip tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "skipped: $tool is not installed"; exit 77; }
done
command -v jq >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || { echo "skipped: needs jq or python3"; exit 77; }
umask 022
export LC_ALL=C.UTF-8 TZ=UTC
unset SOURCE_DATE_EPOCH
tmp=$(mktemp -d)
if [ -n "$HOIST_TEST_KEEP" ]; then echo "keeping $tmp"; else
  trap 'chmod -R u+rwX "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fi
export XDG_CACHE_HOME="$tmp/cache"     # never the user's cache; also exercised by the second release
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check DESCRIPTION CMD... : passes when CMD succeeds
check() {
  what=$1; shift
  if "$@" >"$tmp/check.out" 2>&1 </dev/null; then pass; else fail "$what"; sed 's/^/  /' "$tmp/check.out" | head -40; fi
}
# same TEXT_A TEXT_B DESCRIPTION
same() {
  if [ "$1" = "$2" ]; then pass; else fail "$3: '$1' != '$2'"; fi
}

# JSON queries: jq when present, else python3 with the same few expressions spelled out.
[ -n "$HOIST_TEST_NO_JQ" ] && jq() { return 127; }   # exercise the python3 fallback
have_jq() { [ -z "$HOIST_TEST_NO_JQ" ] && command -v jq >/dev/null 2>&1; }
if have_jq; then
  jqr() { jq -r "$@"; }
else
  jqr() {  # jqr FILTER FILE : only the filters this script uses
    python3 - "$1" "$2" <<'PY'
import json, sys
f, path = sys.argv[1], sys.argv[2]
d = json.load(open(path, encoding="utf-8"))
def out(v):
    if isinstance(v, (dict, list)): print(json.dumps(v, sort_keys=True))
    elif v is None: print("null")
    elif isinstance(v, bool): print("true" if v else "false")
    else: print(v)
table = {
  '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1.2.3") | .digest':
    lambda: [m["digest"] for m in d.get("manifests", []) if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == "1.2.3"],
  '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1.2.3") | .mediaType':
    lambda: [m.get("mediaType") for m in d.get("manifests", []) if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == "1.2.3"],
  '.manifests | length': lambda: [len(d.get("manifests", []))],
  '.manifests[0].digest': lambda: [d["manifests"][0]["digest"]],
  'type': lambda: ["object" if isinstance(d, dict) else type(d).__name__],
  '.digest': lambda: [d.get("digest")],
  '.version': lambda: [d.get("version")],
  '.tags | join(",")': lambda: [",".join(d.get("tags", []))],
  '.platforms | keys | join(",")': lambda: [",".join(sorted(d.get("platforms", {})))],
  '.manifests[] | "\(.digest) \(.size) \(.mediaType) \(.platform.os)/\(.platform.architecture)"':
    lambda: ["%s %s %s %s/%s" % (m["digest"], m["size"], m.get("mediaType"), (m.get("platform") or {}).get("os"), (m.get("platform") or {}).get("architecture")) for m in d["manifests"]],
  '.config | "\(.digest) \(.size) \(.mediaType)"': lambda: ["%s %s %s" % (d["config"]["digest"], d["config"]["size"], d["config"].get("mediaType"))],
  '.layers[] | "\(.digest) \(.size) \(.mediaType)"': lambda: ["%s %s %s" % (l["digest"], l["size"], l.get("mediaType")) for l in d["layers"]],
  '.rootfs.diff_ids[]': lambda: d["rootfs"]["diff_ids"],
  '.os + "/" + .architecture': lambda: [d["os"] + "/" + d["architecture"]],
  '.created': lambda: [d.get("created")],
  '.config.Labels': lambda: [(d.get("config") or {}).get("Labels")],
  '.Labels': lambda: [d.get("Labels")],
  '.annotations["org.opencontainers.image.version"]': lambda: [(d.get("annotations") or {}).get("org.opencontainers.image.version")],
  '.annotations["org.opencontainers.image.created"]': lambda: [(d.get("annotations") or {}).get("org.opencontainers.image.created")],
  '[.manifests[] | select(.platform == null or .platform.os == "unknown" or .annotations["vnd.docker.reference.type"] != null)] | length':
    lambda: [len([m for m in d["manifests"] if m.get("platform") is None or m["platform"].get("os") == "unknown" or (m.get("annotations") or {}).get("vnd.docker.reference.type") is not None])],
}
for v in table[f](): out(v)
PY
  }
fi
# label VALUE from a labels JSON file: jqr with a key containing dots
label_of() {  # label_of FILE KEY
  if have_jq; then jq -r --arg k "$2" '.[$k] // "(missing)"' "$1"
  else python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], "(missing)"))' "$1" "$2"; fi
}

# ---------------------------------------------------------------- the fixture
fx=$tmp/fixture
mkdir -p "$fx/ui/assets" "$fx/ui/empty" "$fx/ui/données"
cat >"$fx/extension.lua" <<'LUA'
return {
  name = "hoist-tests/roundtrip",
  platforms = { "linux/amd64", "linux/arm64" },
  labels = {
    title = "Round Trip", description = "Awkward content through independent tools.",
    vendor = "hoist tests", api_version = ">= 0.3.3",
    icon = "https://example.com/roundtrip/icon.svg",
    screenshots = { { alt = "one", url = "https://example.com/roundtrip/1.png" },
                    { alt = "two", url = "https://example.com/roundtrip/2.png" } },
    detailed_description = "<p>Symlinks, hard links, UTF-8 names, long paths.</p>",
    publisher_url = "https://example.com/roundtrip",
    additional_urls = { { title = "Docs", url = "https://example.com/roundtrip/docs" } },
    changelog = "<p>1.2.3</p>", categories = { "utility-tools" },
    ["org.opencontainers.image.source"] = "https://example.com/roundtrip.git",
  },
  layers = {
    { from = "metadata.json", to = "/metadata.json" },
    { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" } },
    { from = "host/${arch}", to = "/" },
  },
}
LUA
cat >"$fx/metadata.json" <<'JSON'
{"icon": "docker.svg",
 "ui": {"dashboard-tab": {"title": "Round Trip", "root": "/ui", "src": "index.html"}},
 "host": {"binaries": [{"darwin": [{"path": "/darwin/tool"}],
                        "windows": [{"path": "/windows/tool.exe"}],
                        "linux": [{"path": "/linux/tool"}]}]}}
JSON
printf '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>\n' >"$fx/docker.svg"
printf '<!DOCTYPE html><title>rt</title><p>round trip</p>\n' >"$fx/ui/index.html"
printf 'plain 0644 file\n' >"$fx/ui/data.txt"; chmod 0644 "$fx/ui/data.txt"
printf '#!/bin/sh\necho run\n' >"$fx/ui/run.sh"; chmod 0755 "$fx/ui/run.sh"
printf 'unicode\n' >"$fx/ui/ünïcødé.txt"
printf 'nihon\n' >"$fx/ui/日本.txt"
printf 'inside a UTF-8 folder\n' >"$fx/ui/données/fichier é.txt"
head -c 3145728 /dev/urandom >"$fx/ui/assets/blob.bin"            # 3 MB of incompressible data
printf 'hard link pair\n' >"$fx/ui/hard-a"; ln "$fx/ui/hard-a" "$fx/ui/hard-b"
ln -s index.html "$fx/ui/link.html"                                  # relative symlink to a file
ln -s ../index.html "$fx/ui/assets/up.html"                          # relative, through ..
ln -s données "$fx/ui/dir-link"                                      # symlink to a folder
# A 200-character path inside the image (ui/ + two nested folders + a 125-character file name):
# too long for a plain ustar name field, so PAX headers are needed.
d1=$(printf 'd%.0s' $(seq 1 40)); d2=$(printf 'e%.0s' $(seq 1 30)); f=$(printf 'f%.0s' $(seq 1 121)).txt
long="ui/$d1/$d2/$f"
mkdir -p "$fx/ui/$d1/$d2"; printf 'deep\n' >"$fx/$long"
check "the long path is 200 characters" test "${#long}" -eq 200
ln -s "$d1/$d2/$f" "$fx/ui/long-link"                                # a 196-character link target
for arch in amd64 arm64; do
  mkdir -p "$fx/host/$arch/darwin" "$fx/host/$arch/windows" "$fx/host/$arch/linux"
  for p in darwin/tool windows/tool.exe linux/tool; do
    printf '#!/bin/sh\necho "%s for %s"\n' "$p" "$arch" >"$fx/host/$arch/$p"; chmod 0755 "$fx/host/$arch/$p"
  done
  head -c 65536 /dev/urandom >"$fx/host/$arch/linux/$arch.bin"; chmod 0644 "$fx/host/$arch/linux/$arch.bin"
done

# The tree each platform's image must hold: what the layers put where, in order.
for arch in amd64 arm64; do
  e=$tmp/expect-$arch; mkdir -p "$e"
  cp -a "$fx/metadata.json" "$fx/docker.svg" "$fx/ui" "$e/"
  cp -a "$fx/host/$arch/." "$e/"
done

# compare_tree EXPECTED ACTUAL : types, modes, link targets, then the bytes of every regular file
compare_tree() {
  (cd "$1" && find . -mindepth 1 -printf '%P %y %m %l\n' | sort) >"$tmp/tree.want"
  (cd "$2" && find . -mindepth 1 -printf '%P %y %m %l\n' | sort) >"$tmp/tree.got"
  if ! diff -u "$tmp/tree.want" "$tmp/tree.got"; then return 1; fi
  rc=0
  (cd "$1" && find . -type f -printf '%P\n') >"$tmp/tree.files"
  while IFS= read -r p; do
    cmp -- "$1/$p" "$2/$p" || rc=1
  done <"$tmp/tree.files"
  return $rc
}

blob() { echo "$1/blobs/$(echo "$2" | sed 's,:,/,')"; }
# check_blob LAYOUT DIGEST SIZE : the file exists, its sha256 and size match the descriptor
check_blob() {
  b=$(blob "$1" "$2")
  [ -f "$b" ] || { echo "missing blob $b"; return 1; }
  sum="sha256:$(sha256sum <"$b" | cut -d' ' -f1)"
  [ "$sum" = "$2" ] || { echo "blob $b hashes to $sum"; return 1; }
  sz=$(stat -c %s "$b")
  [ "$sz" = "$3" ] || { echo "blob $b is $sz bytes, descriptor says $3"; return 1; }
}
index_digest() {  # index_digest LAYOUT : the digest tagged 1.2.3 in index.json
  jqr '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1.2.3") | .digest' "$1/index.json"
}

# ---------------------------------------------------------------- release
L=$tmp/layout
"$HOIST" release "$fx" --version 1.2.3 --to "oci:$L" --json >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ]; then pass; else fail "hoist release exited $rc"; sed 's/^/  stderr: /' "$tmp/err"; fi
[ -f "$L/index.json" ] || { echo "no index.json: cannot continue"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
check "oci-layout file" grep -q '"imageLayoutVersion"' "$L/oci-layout"
IDX=$(index_digest "$L")
check "index.json tags 1.2.3 exactly once" test "$(echo "$IDX" | grep -c .)" -eq 1
same "$(jqr '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1.2.3") | .mediaType' "$L/index.json")" \
  "application/vnd.oci.image.index.v1+json" "media type of the tagged descriptor"
check "oci-image-tool validates index.json" oci-image-tool validate --type imageIndex "$L/index.json"

# --json: exactly one object on stdout, agreeing with the layout
same "$(jqr 'type' "$tmp/out" 2>&1)" "object" "--json prints exactly one JSON object"
same "$(jqr '.digest' "$tmp/out")" "$IDX" "--json digest"
same "$(jqr '.version' "$tmp/out")" "1.2.3" "--json version"
same "$(jqr '.tags | join(",")' "$tmp/out")" "1.2.3" "--json tags"
same "$(jqr '.platforms | keys | join(",")' "$tmp/out")" "linux/amd64,linux/arm64" "--json platforms"

# ---------------------------------------------------------------- walk and validate every blob
IB=$(blob "$L" "$IDX")
check "index blob digest" check_blob "$L" "$IDX" "$(stat -c %s "$IB")"
check "oci-image-tool validates the image index" oci-image-tool validate --type imageIndex "$IB"
same "$(jqr '.manifests | length' "$IB")" 2 "manifests in the image index"
same "$(jqr '[.manifests[] | select(.platform == null or .platform.os == "unknown" or .annotations["vnd.docker.reference.type"] != null)] | length' "$IB")" \
  0 "entries without a real platform or attestation entries in the index"
same "$(jqr '.annotations["org.opencontainers.image.version"]' "$IB")" "1.2.3" "index annotation org.opencontainers.image.version"
same "$(jqr '.annotations["org.opencontainers.image.created"]' "$IB")" "1970-01-01T00:00:00Z" "index annotation created (no SOURCE_DATE_EPOCH)"
jqr '.manifests[] | "\(.digest) \(.size) \(.mediaType) \(.platform.os)/\(.platform.architecture)"' "$IB" >"$tmp/manifests"
same "$(cut -d' ' -f4 "$tmp/manifests" | sort | tr '\n' ' ')" "linux/amd64 linux/arm64 " "platforms in the index"
seen_layers=""
while read -r mdig msize mtype mplat; do
  same "$mtype" "application/vnd.oci.image.manifest.v1+json" "media type of the $mplat manifest"
  check "$mplat manifest blob" check_blob "$L" "$mdig" "$msize"
  MB=$(blob "$L" "$mdig")
  check "oci-image-tool validates the $mplat manifest" oci-image-tool validate --type manifest "$MB"
  read -r cdig csize ctype <<EOF
$(jqr '.config | "\(.digest) \(.size) \(.mediaType)"' "$MB")
EOF
  same "$ctype" "application/vnd.oci.image.config.v1+json" "media type of the $mplat config"
  check "$mplat config blob" check_blob "$L" "$cdig" "$csize"
  CB=$(blob "$L" "$cdig")
  check "oci-image-tool validates the $mplat config" oci-image-tool validate --type config "$CB"
  same "$(jqr '.os + "/" + .architecture' "$CB")" "$mplat" "platform in the $mplat config"
  same "$(jqr '.created' "$CB")" "1970-01-01T00:00:00Z" "created in the $mplat config (no SOURCE_DATE_EPOCH)"
  # layers: digest, size, diff_id = sha256 of the uncompressed tar, reproducible gzip and tar headers
  jqr '.layers[] | "\(.digest) \(.size) \(.mediaType)"' "$MB" >"$tmp/layers"
  jqr '.rootfs.diff_ids[]' "$CB" >"$tmp/diffids"
  same "$(wc -l <"$tmp/layers")" "3" "layers in the $mplat manifest"
  same "$(wc -l <"$tmp/diffids")" "3" "diff_ids in the $mplat config"
  n=0
  while read -r ldig lsize ltype; do
    n=$((n + 1))
    same "$ltype" "application/vnd.oci.image.layer.v1.tar+gzip" "media type of $mplat layer $n"
    check "$mplat layer $n blob" check_blob "$L" "$ldig" "$lsize"
    LB=$(blob "$L" "$ldig")
    case " $seen_layers " in *" $ldig "*) continue ;; esac   # shared layers are checked once
    seen_layers="$seen_layers $ldig"
    want=$(sed -n "${n}p" "$tmp/diffids")
    got="sha256:$(gzip -dc <"$LB" | sha256sum | cut -d' ' -f1)"
    same "$got" "$want" "diff_id of $mplat layer $n"
    # gzip header: bytes 4-7 (MTIME) zero, FLG without FNAME (0x08)
    hdr=$(od -An -tu1 -N8 "$LB" | tr -s ' ' | sed 's/^ //')
    # shellcheck disable=SC2086  # split the od output into bytes
    set -- $hdr
    check "$mplat layer $n: gzip header has no name" test $(( $4 & 8 )) -eq 0
    check "$mplat layer $n: gzip header has no timestamp" test "$5$6$7$8" = "0000"
    # tar headers: uid/gid 0 without names, mtime 0
    gzip -dc <"$LB" | tar -tv --full-time -f - >"$tmp/tarlist" 2>&1
    check "$mplat layer $n: entries are 0/0 with no owner names" sh -c '! grep -v " 0/0 " "$1"' - "$tmp/tarlist"
    check "$mplat layer $n: mtimes are 0" sh -c '! grep -v " 1970-01-01 00:00:00 " "$1"' - "$tmp/tarlist"
  done <"$tmp/layers"
done <"$tmp/manifests"
# the layer shared by both platforms (metadata, icon + ui) is stored once: 3 + 1 distinct layers
same "$(echo "$seen_layers" | wc -w)" 4 "distinct layers (shared ones built once)"
# The layout as a whole. oci-image-tool 1.0.0-rc1 has no "imageLayout" type: "--type image" on a
# folder autodetects an image layout, checks oci-layout and index.json, and follows the ref. It does
# not descend into a nested image index (it warns "unknown media type"), so the per-platform images
# are validated below, on the single-platform layouts skopeo extracts.
if oci-image-tool validate --help 2>&1 | grep -q imageLayout; then
  check "oci-image-tool validates the layout" oci-image-tool validate --type imageLayout "$L"
else
  check "oci-image-tool validates the layout" oci-image-tool validate --type image --ref name=1.2.3 "$L"
fi

# ---------------------------------------------------------------- unpack each platform and compare
for arch in amd64 arm64; do
  if skopeo copy -q --override-arch "$arch" --override-os linux "oci:$L:1.2.3" "oci:$tmp/one-$arch:x" \
      >"$tmp/skopeo.err" 2>&1; then pass; else fail "skopeo copy $arch"; sed 's/^/  /' "$tmp/skopeo.err"; continue; fi
  # skopeo copied the manifest as is (same digest), so what follows checks hoist's bytes
  same "$(jqr '.manifests[0].digest' "$tmp/one-$arch/index.json")" \
    "$(grep " linux/$arch\$" "$tmp/manifests" | cut -d' ' -f1)" "$arch: skopeo picked the index's $arch manifest unchanged"
  check "$arch: oci-image-tool validates the single-platform image" \
    oci-image-tool validate --type image --ref name=x "$tmp/one-$arch"
  if umoci unpack --rootless --image "$tmp/one-$arch:x" "$tmp/unpacked-$arch" >"$tmp/umoci.err" 2>&1; then pass
  else fail "umoci unpack $arch"; sed 's/^/  /' "$tmp/umoci.err"; continue; fi
  # umoci writes config.json, umoci.json, sha256_<manifest>.mtree and rootfs/ (umoci-unpack(1));
  # only rootfs/ is the image, and it must hold exactly the expected tree.
  check "$arch: umoci bundle holds rootfs" test -d "$tmp/unpacked-$arch/rootfs"
  check "$arch: unpacked tree equals the source" compare_tree "$tmp/expect-$arch" "$tmp/unpacked-$arch/rootfs"
  check "$arch: hard links survive" test "$tmp/unpacked-$arch/rootfs/ui/hard-a" -ef "$tmp/unpacked-$arch/rootfs/ui/hard-b"
  skopeo inspect --config --override-arch "$arch" --override-os linux "oci:$L:1.2.3" >"$tmp/config-$arch.json" 2>"$tmp/skopeo.err" \
    || { fail "skopeo inspect --config $arch"; sed 's/^/  /' "$tmp/skopeo.err"; }
  if have_jq; then jq -S '.config.Labels' "$tmp/config-$arch.json" >"$tmp/labels-$arch.json"
  else python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["config"]["Labels"], sort_keys=True, indent=2))' \
    "$tmp/config-$arch.json" >"$tmp/labels-$arch.json"; fi
done

# ---------------------------------------------------------------- labels
check "labels identical on both platforms" cmp "$tmp/labels-amd64.json" "$tmp/labels-arm64.json"
for kv in "org.opencontainers.image.title=Round Trip" \
          "com.docker.desktop.extension.api.version=>= 0.3.3" \
          "org.opencontainers.image.version=1.2.3" \
          "com.docker.extension.categories=utility-tools" \
          "org.opencontainers.image.source=https://example.com/roundtrip.git" \
          "org.opencontainers.image.created=1970-01-01T00:00:00Z" \
          'com.docker.extension.screenshots=[{"alt":"one","url":"https://example.com/roundtrip/1.png"},{"alt":"two","url":"https://example.com/roundtrip/2.png"}]'; do
  same "$(label_of "$tmp/labels-amd64.json" "${kv%%=*}")" "${kv#*=}" "label ${kv%%=*}"
done
for key in org.opencontainers.image.description org.opencontainers.image.vendor com.docker.desktop.extension.icon \
           com.docker.extension.detailed-description com.docker.extension.publisher-url com.docker.extension.changelog \
           com.docker.extension.additional-urls; do
  v=$(label_of "$tmp/labels-amd64.json" "$key")
  check "label $key is set" test -n "$v" -a "$v" != "(missing)"
done

# ---------------------------------------------------------------- reproducibility
find "$fx" -exec touch -h -d '2001-01-01' {} +
"$HOIST" release "$fx" --version 1.2.3 --to "oci:$tmp/layout2" >/dev/null 2>"$tmp/err" \
  || { fail "second release"; sed 's/^/  /' "$tmp/err"; }
same "$(index_digest "$tmp/layout2")" "$IDX" "index digest after changing every mtime"
XDG_CACHE_HOME="$tmp/cache-fresh" "$HOIST" release "$fx" --version 1.2.3 --to "oci:$tmp/layout2b" >/dev/null 2>"$tmp/err" \
  || { fail "release with an empty cache"; sed 's/^/  /' "$tmp/err"; }
same "$(index_digest "$tmp/layout2b")" "$IDX" "index digest with an empty cache"
SOURCE_DATE_EPOCH=1700000000 "$HOIST" release "$fx" --version 1.2.3 --to "oci:$tmp/layout3" >/dev/null 2>"$tmp/err" \
  || { fail "release with SOURCE_DATE_EPOCH"; sed 's/^/  /' "$tmp/err"; }
D3=$(index_digest "$tmp/layout3")
check "SOURCE_DATE_EPOCH changes the index digest" test -n "$D3" -a "$D3" != "$IDX"
if [ -n "$D3" ]; then
  skopeo inspect --config --override-arch arm64 --override-os linux "oci:$tmp/layout3:1.2.3" >"$tmp/config3.json" 2>/dev/null
  check "created follows SOURCE_DATE_EPOCH" grep -q '"created": *"2023-11-14T22:13:20Z"' "$tmp/config3.json"
  # and the layer mtimes: the arm64 host layer
  M3=$(blob "$tmp/layout3" "$(jqr '.manifests[] | "\(.digest) \(.size) \(.mediaType) \(.platform.os)/\(.platform.architecture)"' \
        "$(blob "$tmp/layout3" "$D3")" | grep ' linux/arm64$' | cut -d' ' -f1)")
  LB3=$(blob "$tmp/layout3" "$(jqr '.layers[] | "\(.digest) \(.size) \(.mediaType)"' "$M3" | tail -1 | cut -d' ' -f1)")
  check "layer mtimes follow SOURCE_DATE_EPOCH" sh -c 'gzip -dc <"$1" | tar -tv --full-time -f - | grep -v -q " 2023-11-14 22:13:20 " && exit 1; exit 0' - "$LB3"
fi
# the same epoch twice gives the same digest (the cache must key on it, not just on the files)
SOURCE_DATE_EPOCH=1700000000 "$HOIST" release "$fx" --version 1.2.3 --to "oci:$tmp/layout4" >/dev/null 2>"$tmp/err" \
  || { fail "second release with SOURCE_DATE_EPOCH"; sed 's/^/  /' "$tmp/err"; }
same "$(index_digest "$tmp/layout4")" "$D3" "index digest with the same SOURCE_DATE_EPOCH twice"
unset SOURCE_DATE_EPOCH
"$HOIST" release "$fx" --version 1.2.3 --to "oci:$tmp/layout5" >/dev/null 2>"$tmp/err" \
  || { fail "release after the SOURCE_DATE_EPOCH ones"; sed 's/^/  /' "$tmp/err"; }
same "$(index_digest "$tmp/layout5")" "$IDX" "index digest back without SOURCE_DATE_EPOCH (warm cache)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
