#!/usr/bin/env bash
# Extensions built FROM a base image (hoist issue 14), against the real registry standing in for
# Docker Hub, with the real busybox base of tests/fixtures/base (linux/amd64 + linux/arm64):
#   - to an OCI layout: complete (skopeo copies it, umoci unpacks it: the base's files and the
#     extension's, byte for byte), validated, reproducible (same base digest + same inputs ->
#     same release digest), the base named in the standard annotations;
#   - to the base's registry: base layers HEADed or mounted, never downloaded (the access log);
#   - to another registry: base layers streamed through the cache;
#   - a Docker schema-2 base: its layers under the OCI media types, the same digests;
#   - the config inheritance rules, each compared with what buildah makes of the equivalent
#     Dockerfile on the same base;
#   - --dry-run downloads no layer;
#   - bad input: a base that does not exist (1), lacks a platform (3), a bad digest (1), a registry
#     serving a wrong base blob (1, nothing tagged), an unknown config key (3).
# usage: test_base.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS LC_ALL=C.UTF-8
. "$HOIST_REGISTRY_TOOLS/registry.sh"
for t in docker-registry skopeo umoci python3 dpkg-deb; do
  command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/hub" >/dev/null 2>&1; registry_stop "$tmp/other" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export HOME="$tmp/home" XDG_CACHE_HOME="$tmp/cache" REGISTRY_AUTH_FILE="$tmp/auth.json" DOCKER_CONFIG="$tmp/docker"
mkdir -p "$HOME"
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$tmp/policy.json"
sko() { skopeo --policy "$tmp/policy.json" "$@"; }
. "$ROOT/tests/check.sh"
py_json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# blob LAYOUT DIGEST: a blob of an OCI layout (skopeo's oci: transport takes no digests)
blob() { cat "$1/blobs/sha256/${2#sha256:}"; }

# ---------------------------------------------------------------- the base, on "Docker Hub"
BASE_LAYOUT=$tmp/base
sh "$ROOT/tests/fixtures/base/make_base.sh" "$BASE_LAYOUT" >/dev/null 2>&1 || { echo "make_base.sh failed"; exit 1; }
registry_start none "$tmp/hub" >/dev/null || exit 1
registry_start none "$tmp/other" >/dev/null || exit 1
hub=$(sed 's|http://||' "$tmp/hub/url") other=$(sed 's|http://||' "$tmp/other/url")
sh "$ROOT/tests/fixtures/base/push_base.sh" "$BASE_LAYOUT" "$hub" library/busybox:1.36 >/dev/null 2>&1 && ok || ko "push the base"
sh "$ROOT/tests/fixtures/base/push_base.sh" "$BASE_LAYOUT" "$hub" library/busybox:1.36-v2s2 --v2s2 >/dev/null 2>&1 && ok || ko "push the schema-2 base"
BASE=docker://$hub/library/busybox:1.36
base_index=$(sko inspect --raw --tls-verify=false "$BASE" | sha256sum | sed 's/ .*//; s/^/sha256:/')
base_layers=$(sko inspect --raw --tls-verify=false "$BASE" | python3 -c '
import json, sys
print(" ".join(m["digest"] for m in json.load(sys.stdin)["manifests"]))')
# the base layers' digests (both platforms)
: >"$tmp/base-layer-digests"
for m in $base_layers; do
  sko inspect --raw --tls-verify=false "docker://$hub/library/busybox@$m" |
    python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(sys.stdin)["layers"]]' >>"$tmp/base-layer-digests"
done
sort -u -o "$tmp/base-layer-digests" "$tmp/base-layer-digests"
[ "$(wc -l <"$tmp/base-layer-digests")" -eq 3 ] && ok || ko "the base should have 3 distinct layers"

# ---------------------------------------------------------------- an extension on it
# write_ext DIR BASE CONFIG: the hello example on BASE with extension.lua's config = CONFIG
write_ext() {
  rm -rf "$1"; cp -r "$ROOT/examples/hello-extension" "$1"
  python3 - "$1/extension.lua" "$2" "$3" <<'PY'
import sys
p, base, config = sys.argv[1:]
s = open(p).read()
s = s.replace("  platforms = ", ("  base = %s,\n" % base if base else "") + "  config = %s,\n  platforms = " % config, 1)
open(p, "w").write(s)
PY
}
write_ext "$tmp/ext" "\"$BASE\"" '{ cmd = "echo started > /run/guest-services/out; sleep 60", env = { LANG = "C.UTF-8" } }'

# --dry-run: manifests and configs only, no layer; it names the base and its digest
mark=$(wc -l <"$tmp/hub/log")
run 0 "$HOIST" release "$tmp/ext" --version 1.0.0 --to "oci:$tmp/lay" --dry-run
expect out "base +$hub/library/busybox:1.36@$base_index"
tail -n +"$((mark + 1))" "$tmp/hub/log" | grep -o '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]*' | sed 's|.*/blobs/||' >"$tmp/dry-gets"
! grep -q -F -f "$tmp/base-layer-digests" "$tmp/dry-gets" && ok || { ko "--dry-run downloaded a base layer"; cat "$tmp/dry-gets"; }
[ ! -e "$tmp/lay" ] && ok || ko "--dry-run wrote the layout"

# ---------------------------------------------------------------- to an OCI layout: complete
run 0 "$HOIST" --json release "$tmp/ext" --version 1.0.0 --to "oci:$tmp/lay"
py out 'assert r["base"]["name"].endswith("/library/busybox:1.36") and r["base"]["digest"].startswith("sha256:"), r'
d1=$(py_json "$tmp/out" 'd["digest"]')
run 0 "$HOIST" validate "oci:$tmp/lay:1.0.0"
# the standard annotations on each platform manifest (and the index, one base for all)
sko inspect --raw "oci:$tmp/lay:1.0.0" >"$tmp/index.json"
py index.json 'a = r["annotations"]; assert a["org.opencontainers.image.base.digest"] == "'"$base_index"'" and a["org.opencontainers.image.base.name"] == "'"$hub"'/library/busybox:1.36", a'
for m in $(py_json "$tmp/index.json" '" ".join(m["digest"] for m in d["manifests"])'); do
  blob "$tmp/lay" "$m" >"$tmp/m.json"
  py m.json 'assert r["annotations"]["org.opencontainers.image.base.digest"] == "'"$base_index"'", r'
  py m.json 'assert all(l["mediaType"].startswith("application/vnd.oci.image.layer.") for l in r["layers"]), r'
done
# an independent tool copies it whole and unpacks it: base files and extension files, byte for byte
sko copy -q --all "oci:$tmp/lay:1.0.0" "oci:$tmp/copied:1.0.0" && ok || ko "skopeo could not copy the layout (incomplete?)"
# umoci cannot choose a platform from an index: the amd64 manifest alone, under a tag of its own
amd=$(py_json "$tmp/index.json" '[m["digest"] for m in d["manifests"] if m["platform"]["architecture"]=="amd64"][0]')
python3 - "$tmp/copied" "$amd" <<'PY'
import json, sys
lay, d = sys.argv[1:]
idx = json.load(open(lay + "/index.json"))
m = json.load(open(lay + "/blobs/sha256/" + d[7:]))
idx["manifests"].append({"mediaType": m["mediaType"], "digest": d,
                         "size": len(open(lay + "/blobs/sha256/" + d[7:], "rb").read()),
                         "annotations": {"org.opencontainers.image.ref.name": "amd64"}})
json.dump(idx, open(lay + "/index.json", "w"))
PY
umoci unpack --image "$tmp/copied:amd64" "$tmp/bundle" >/dev/null 2>"$tmp/umoci.err" && ok || { ko "umoci unpack"; cat "$tmp/umoci.err"; }
rf=$tmp/bundle/rootfs
[ -f "$rf/bin/busybox" ] && [ -L "$rf/bin/sh" ] && [ -f "$rf/etc/passwd" ] && ok || ko "the base's files are not in the unpacked image"
cmp -s "$rf/metadata.json" "$ROOT/examples/hello-extension/metadata.json" && ok || ko "metadata.json differs"
cmp -s "$rf/ui/index.html" "$ROOT/examples/hello-extension/ui/index.html" && ok || ko "ui/index.html differs"
deb=$(ls /var/cache/hoist/debs/busybox-static_*_amd64.deb 2>/dev/null | head -1)
if [ -n "$deb" ]; then
  mkdir -p "$tmp/deb" && dpkg-deb -x "$deb" "$tmp/deb"
  cmp -s "$rf/bin/busybox" "$tmp/deb/bin/busybox" && ok || ko "/bin/busybox is not Debian's byte for byte"
fi
# reproducible: the same base digest and the same inputs give the same release digest
run 0 "$HOIST" --json release "$tmp/ext" --version 1.0.0 --to "oci:$tmp/lay2"
[ "$(py_json "$tmp/out" 'd["digest"]')" = "$d1" ] && ok || ko "two releases on the same base differ"

# ---------------------------------------------------------------- to the base's registry: mounted
mark=$(wc -l <"$tmp/hub/log")
run 0 "$HOIST" --json release "$tmp/ext" --version 1.0.0 --to "docker://$hub/acme/ext"
[ "$(py_json "$tmp/out" 'd["digest"]')" = "$d1" ] && ok || ko "the registry release differs from the layout's"
tail -n +"$((mark + 1))" "$tmp/hub/log" >"$tmp/push.log"
! grep -o '"GET /v2/library/busybox/blobs/sha256:[0-9a-f]*' "$tmp/push.log" | grep -q -F -f "$tmp/base-layer-digests" \
  && ok || ko "a base layer was downloaded for a push to its own registry"
n_mount=$(grep -c 'POST /v2/acme/ext/blobs/uploads/?mount=' "$tmp/push.log")
[ "$n_mount" -eq 3 ] && ok || { ko "$n_mount base layers mounted, want 3"; grep 'mount=' "$tmp/push.log" | head; }
sko inspect --raw --tls-verify=false "docker://$hub/acme/ext:1.0.0" | sha256sum | grep -q "${d1#sha256:}" && ok || ko "the registry holds another index"

# ---------------------------------------------------------------- to another registry: streamed
mark=$(wc -l <"$tmp/hub/log")
run 0 python3 -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$HOIST" release "$tmp/ext" --version 1.0.0 --to "docker://$other/acme/ext"
rss=$(tail -1 "$tmp/out")
[ "$rss" -lt 65536 ] && ok || ko "peak RSS $rss KB pushing to another registry"
sko copy -q --all --src-tls-verify=false "docker://$other/acme/ext:1.0.0" "oci:$tmp/from-other:1.0.0" && ok || ko "the other registry's copy is incomplete"
run 0 "$HOIST" validate "docker://$other/acme/ext:1.0.0"
# each base layer fetched at most once from the hub (the cache kept them)
tail -n +"$((mark + 1))" "$tmp/hub/log" | grep -o '"GET /v2/library/busybox/blobs/sha256:[0-9a-f]*' | sed 's|.*/blobs/||' | sort | uniq -d >"$tmp/twice"
[ ! -s "$tmp/twice" ] && ok || ko "a base layer was downloaded twice"

# ---------------------------------------------------------------- a Docker schema-2 base
write_ext "$tmp/ext2" "\"docker://$hub/library/busybox:1.36-v2s2\"" '{ cmd = { "sh" } }'
run 0 "$HOIST" release "$tmp/ext2" --version 1.0.0 --to "oci:$tmp/lay-v2"
amd=$(sko inspect --raw "oci:$tmp/lay-v2:1.0.0" | python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"]=="amd64"][0])')
blob "$tmp/lay-v2" "$amd" >"$tmp/m2.json"
py m2.json 'assert r["mediaType"] == "application/vnd.oci.image.manifest.v1+json" and all(l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip" for l in r["layers"]), r'
first=$(py_json "$tmp/m2.json" 'd["layers"][0]["digest"]')
grep -q "$first" "$tmp/base-layer-digests" && ok || ko "the schema-2 base's layer digest changed"
run 0 "$HOIST" validate "oci:$tmp/lay-v2:1.0.0"

# ---------------------------------------------------------------- config inheritance vs buildah
# Each case: an extension.lua config and the Dockerfile lines that mean the same; the fields of
# both images' configs must agree (buildah adds its own labels and history: not compared).
if command -v buildah >/dev/null 2>&1; then
  bah() { buildah --storage-driver vfs --root "$tmp/bstore" --runroot "$tmp/brun" "$@"; }
  cmpcase() { # cmpcase NAME LUA_CONFIG DOCKERFILE_LINES
    write_ext "$tmp/c-$1" "\"$BASE\"" "$2"
    if ! "$HOIST" --json release "$tmp/c-$1" --version 1.0.0 --platform linux/amd64 --push-by-digest \
         --to "oci:$tmp/c-$1-out" >"$tmp/h.out" 2>"$tmp/h.err"; then
      ko "$1: hoist release failed"; cat "$tmp/h.err"; return
    fi
    mkdir -p "$tmp/bctx-$1" && printf 'FROM %s\n%s\n' "$hub/library/busybox:1.36" "$3" >"$tmp/bctx-$1/Dockerfile"
    # Docker's format: buildah drops HEALTHCHECK from an OCI image (Docker reads the field from both)
    if ! bah bud --format docker --tls-verify=false --platform linux/amd64 -q -t "c-$1" "$tmp/bctx-$1" >/dev/null 2>"$tmp/b.err"; then
      ko "$1: buildah bud failed"; tail -5 "$tmp/b.err"; return
    fi
    bah inspect --type image "c-$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["Docker"]["config"]))' >"$tmp/b.json"
    python3 - "$tmp/c-$1-out" "$tmp/h.out" >"$tmp/h.json" <<'PY'
import json, sys
lay, out = sys.argv[1:]
d = json.load(open(out))["platforms"]["linux/amd64"]
m = json.load(open(lay + "/blobs/sha256/" + d[7:]))
print(json.dumps(json.load(open(lay + "/blobs/sha256/" + m["config"]["digest"][7:]))["config"]))
PY
    python3 - "$tmp/h.json" "$tmp/b.json" "$1" <<'PY' && ok || ko "$1: hoist and buildah disagree"
import json, sys
h, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
for k in ("Env", "Entrypoint", "Cmd", "WorkingDir", "User", "ExposedPorts", "Volumes", "StopSignal", "Healthcheck"):
    hv, bv = h.get(k), b.get(k)
    if hv in ([], {}, ""): hv = None
    if bv in ([], {}, ""): bv = None
    if hv != bv:
        bad.append("%s: hoist %r, buildah %r" % (k, hv, bv))
if bad:
    print(sys.argv[3] + ": " + "; ".join(bad))
    sys.exit(1)
PY
  }
  cmpcase entrypoint '{ entrypoint = { "/bin/echo", "hi" } }' 'ENTRYPOINT ["/bin/echo", "hi"]'
  cmpcase shell-cmd '{ cmd = "echo $BASE_IMAGE && sleep 1" }' 'CMD echo $BASE_IMAGE && sleep 1'
  cmpcase env-merge '{ env = { BASE_IMAGE = "overridden", LANG = "C.UTF-8" } }' 'ENV BASE_IMAGE=overridden LANG=C.UTF-8'
  cmpcase entry-cmd '{ entrypoint = "exec /bin/sh", cmd = { "-c", "true" } }' $'ENTRYPOINT exec /bin/sh\nCMD ["-c", "true"]'
  cmpcase user-workdir '{ user = "1000:1000", workdir = "/app", stop_signal = "SIGQUIT" }' $'USER 1000:1000\nWORKDIR /app\nSTOPSIGNAL SIGQUIT'
  cmpcase ports-volumes '{ exposed_ports = { "8080", "53/udp" }, volumes = { "/cache" } }' $'EXPOSE 8080 53/udp\nVOLUME /cache'
  cmpcase healthcheck '{ healthcheck = { test = "wget -q -O- localhost:8080", interval = "30s", timeout = "5s", start_period = "10s", retries = 3 } }' \
    'HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD wget -q -O- localhost:8080'
else
  echo "note: buildah is not installed: the config comparison is skipped"
fi

# ---------------------------------------------------------------- bad input
write_ext "$tmp/bad1" "\"docker://$hub/library/nope:1\"" '{}'
run 1 "$HOIST" release "$tmp/bad1" --version 1.0.0 --to "oci:$tmp/bad-out"
expect err "base $hub/library/nope:1 cannot be read"
# a base without an arm64 image: its amd64 manifest alone (by digest)
amd_base=$(sko inspect --raw --tls-verify=false "$BASE" | python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"]=="amd64"][0])')
write_ext "$tmp/bad2" "\"docker://$hub/library/busybox@$amd_base\"" '{}'
run 3 "$HOIST" release "$tmp/bad2" --version 1.0.0 --to "oci:$tmp/bad-out"
expect err "is a linux/amd64 image, not linux/arm64"
# an index that lacks arm64
python3 - "$BASE_LAYOUT" "$tmp/amd-only" <<'PY'
import json, os, shutil, sys, hashlib
src, dst = sys.argv[1:]
shutil.copytree(src, dst)
idx = json.load(open(dst + "/index.json"))
top = json.load(open(dst + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
top["manifests"] = [m for m in top["manifests"] if m["platform"]["architecture"] == "amd64"]
b = json.dumps(top).encode()
d = hashlib.sha256(b).hexdigest()
open(dst + "/blobs/sha256/" + d, "wb").write(b)
idx["manifests"][0].update(digest="sha256:" + d, size=len(b))
json.dump(idx, open(dst + "/index.json", "w"))
PY
write_ext "$tmp/bad3" "\"oci:$tmp/amd-only:1.36\"" '{}'
run 3 "$HOIST" release "$tmp/bad3" --version 1.0.0 --to "oci:$tmp/bad-out"
expect err "has no linux/arm64 image \(it has linux/amd64\)"
write_ext "$tmp/bad4" "\"docker://$hub/library/busybox@sha256:$(printf '0%.0s' $(seq 64))\"" '{}'
run 1 "$HOIST" release "$tmp/bad4" --version 1.0.0 --to "oci:$tmp/bad-out"
expect err "busybox@sha256:0000"
# a registry that answers the base's blobs with other content: nothing tagged anywhere
px=$(registry_proxy corrupt-blobs "$tmp/hub")
write_ext "$tmp/bad5" "\"docker://${px#http://}/library/busybox:1.36\"" '{}'
rm -rf "$XDG_CACHE_HOME"
run 1 "$HOIST" release "$tmp/bad5" --version 1.0.0 --to "oci:$tmp/bad-out"
expect err "other content"
run 1 "$HOIST" release "$tmp/bad5" --version 1.0.0 --to "docker://$other/acme/bad5"
sko inspect --raw --tls-verify=false "docker://$other/acme/bad5:1.0.0" >/dev/null 2>&1 && ko "bad5 was tagged" || ok
[ ! -f "$tmp/bad-out/index.json" ] || ! grep -q 1.0.0 "$tmp/bad-out/index.json" && ok || ko "a failed release was tagged"
write_ext "$tmp/bad6" "\"$BASE\"" '{ entrypiont = { "/x" } }'
run 3 "$HOIST" release "$tmp/bad6" --version 1.0.0 --to "oci:$tmp/bad-out"
expect err "unknown key 'entrypiont' in config \(did you mean 'entrypoint'\?\)"
write_ext "$tmp/bad7" '{ ["linux/amd64"] = "'"$BASE"'" }' '{}'
run 3 "$HOIST" release "$tmp/bad7" --version 1.0.0 --to "oci:$tmp/bad-out"
expect err "base has no image for linux/arm64"

# ---------------------------------------------------------------- what only a run would find
# (issue 12 item 4): a backend's program and a host binary's mode, looked for in the image
# backend NAME BASE CONFIG VM_JSON: the hello example as a backend extension (vm section VM_JSON)
backend() {
  write_ext "$tmp/$1" "$2" "$3"
  python3 - "$tmp/$1/metadata.json" "$4" <<'PY'
import json, sys
p, vm = sys.argv[1:]
m = json.load(open(p))
m["vm"] = json.loads(vm)
json.dump(m, open(p, "w"))
PY
}
OCIBASE="\"oci:$BASE_LAYOUT:1.36\""
VM_SELF='{"image": "${DESKTOP_PLUGIN_IMAGE}"}'
backend rt-ok "$OCIBASE" '{ cmd = "echo started; sleep 3600" }' "$VM_SELF"
run 0 "$HOIST" release "$tmp/rt-ok" --version 1.0.0 --to "oci:$tmp/rt-out"    # /bin/sh -> busybox, found
backend rt-path "$OCIBASE" '{ cmd = { "sleep", "3600" } }' "$VM_SELF"
run 0 "$HOIST" release "$tmp/rt-path" --version 1.0.0 --to "oci:$tmp/rt-out2"  # through PATH, a symlink
backend rt-nosh '' '{ cmd = "echo started" }' "$VM_SELF"
run 3 "$HOIST" release "$tmp/rt-nosh" --version 1.0.0 --to "oci:$tmp/rt-out3"
expect err "the backend \(vm.image is this image\) cannot start \(linux/amd64 image\): '/bin/sh' does not exist \(a shell-form command needs /bin/sh\)"
backend rt-noprog "$OCIBASE" '{ cmd = { "node", "server.js" } }' "$VM_SELF"
run 3 "$HOIST" release "$tmp/rt-noprog" --version 1.0.0 --to "oci:$tmp/rt-out3"
expect err "'node' is not in the image's PATH"
backend rt-notexec "$OCIBASE" '{ entrypoint = { "/metadata.json" } }' "$VM_SELF"
run 3 "$HOIST" release "$tmp/rt-notexec" --version 1.0.0 --to "oci:$tmp/rt-out3"
expect err "'/metadata.json' is not executable \(mode 0644\)"
# --dry-run downloads no base layer: what the base would provide is listed, not failed
rm -rf "$XDG_CACHE_HOME"
backend rt-dry "\"$BASE\"" '{ cmd = { "sleep", "1" } }' "$VM_SELF"
run 0 "$HOIST" release "$tmp/rt-dry" --version 1.0.0 --to "oci:$tmp/rt-out4" --dry-run
expect out "not checked"
# a host binary written 0644
write_ext "$tmp/rt-mode" "$OCIBASE" '{}'
chmod 0644 "$tmp/rt-mode/host/amd64/linux/hello" 2>/dev/null || chmod 0644 "$(find "$tmp/rt-mode/host/amd64/linux" -type f | head -1)"
run 3 "$HOIST" release "$tmp/rt-mode" --version 1.0.0 --to "oci:$tmp/rt-out5"
expect err "host.binaries\[0\].linux\[0\] \(linux/amd64 image\): '/linux/[^']*' is not executable \(mode 0644\)"
# compose backends: a service running this image needs a command; its program must be there
compose() { printf '%s\n' "$2" >"$tmp/$1/docker-compose.yaml"; }
COMPOSE_VM='{"composefile": "docker-compose.yaml"}'
backend cp-none '' '{}' "$COMPOSE_VM"
sed -i 's|{ from = "metadata.json", to = "/metadata.json" },|{ from = "metadata.json", to = "/metadata.json" },\n    { from = "docker-compose.yaml", to = "/docker-compose.yaml" },|' "$tmp/cp-none/extension.lua"
compose cp-none 'services:
  backend:
    image: ${DESKTOP_PLUGIN_IMAGE}'
run 3 "$HOIST" release "$tmp/cp-none" --version 1.0.0 --to "oci:$tmp/cp-out"
expect err "compose service 'backend' \(image \\\$\{DESKTOP_PLUGIN_IMAGE\}\) runs this image but has no command"
cp -r "$tmp/cp-none" "$tmp/cp-ok"
compose cp-ok 'x-common: &common
  image: ${DESKTOP_PLUGIN_IMAGE}
services:
  backend:
    <<: *common
    command: ["/linux/hello"]'
run 0 "$HOIST" release "$tmp/cp-ok" --version 1.0.0 --to "oci:$tmp/cp-out"
compose cp-ok 'services:
  backend:
    image: ${DESKTOP_PLUGIN_IMAGE}
    command: /usr/bin/missing --flag'
run 3 "$HOIST" release "$tmp/cp-ok" --version 1.0.1 --to "oci:$tmp/cp-out"
expect err "'/usr/bin/missing' does not exist"
compose cp-ok 'services:
  backend:
    image: ${DESKTOP_PLUGIN_IMAGE}
    command: [oops'
run 3 "$HOIST" release "$tmp/cp-ok" --version 1.0.1 --to "oci:$tmp/cp-out"
expect err "vm.composefile is not valid YAML: docker-compose.yaml:[0-9]+:[0-9]+: "

finish base
