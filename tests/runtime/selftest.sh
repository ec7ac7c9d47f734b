#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Proves the base image fixture (tests/fixtures/base) and the containerd harness (containerd.sh):
#   1. make_base.sh builds the busybox base offline: an OCI layout, tag 1.36, an index of linux/amd64
#      and linux/arm64/v8, two layers each (busybox: per platform; /etc: one blob shared by both),
#      real binaries of each architecture, the config fields inheritance tests need, under 10 MB;
#      a second build is byte for byte the same, another SOURCE_DATE_EPOCH changes the digest;
#      --v2s2 writes the same layers and config under Docker schema-2 media types;
#   2. push_base.sh pushes both forms to a real registry; skopeo inspect --raw shows the index
#      (manifest list) with both platforms;
#   3. containerd pulls and runs the amd64 base: a command writes to the bind folder
#      /run/guest-services and the host reads it; the image's Env reaches the process; exit
#      statuses come back; the schema-2 form runs too;
#   4. hoist release examples/backend-extension to the registry; containerd runs it as Docker
#      Desktop runs an extension backend, and its socket in the bind folder answers HTTP.
# Prints a timing line per step and "N passed, M failed" last; exits 1 on a failure, 77 when a
# tool is missing or containers cannot run here (the message says which).
# usage: selftest.sh PATH/TO/hoist     (HOIST_TEST_KEEP=1 keeps the work folder)
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
BASE=$ROOT/tests/fixtures/base
HOIST_REGISTRY_TOOLS=$ROOT/tests/registry
HOIST_RUNTIME_TOOLS=$here
export HOIST_REGISTRY_TOOLS HOIST_RUNTIME_TOOLS LC_ALL=C.UTF-8
# shellcheck source=../registry/registry.sh
. "$HOIST_REGISTRY_TOOLS/registry.sh"
# shellcheck source=containerd.sh
. "$HOIST_RUNTIME_TOOLS/containerd.sh"

[ -x "$HOIST" ] || { echo "usage: selftest.sh PATH/TO/hoist"; exit 2; }
for t in docker-registry skopeo curl python3 dpkg-deb; do
  command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 ||
  { echo "SKIP: aarch64-linux-gnu-gcc not installed (the backend example needs it: tools/deps.sh)"; exit 77; }

tmp=$(mktemp -d)
cleanup() {
  # containerd first: its mounts under $tmp must go before rm -rf can remove everything
  containerd_stop "$tmp/ctd" || echo "FAIL: containerd_stop"
  registry_stop "$tmp/reg"
  if [ -n "${HOIST_TEST_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# the containerd watchdog outlives a killed test by this much at most (the ctest timeout is 600 s)
HOIST_CONTAINERD_TTL=${HOIST_CONTAINERD_TTL:-900}
export HOIST_CONTAINERD_TTL
# hermetic tools: no credentials, caches or policies of the machine's
export HOME="$tmp/home" XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" \
  REGISTRY_AUTH_FILE="$tmp/auth.json" DOCKER_CONFIG="$tmp/docker"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$tmp/policy.json"
sko() { skopeo --policy "$tmp/policy.json" "$@"; }
# shellcheck source=../check.sh
. "$ROOT/tests/check.sh"

t0=$(date +%s.%N)
step() { # step NAME : prints the time since the last step
  _t=$(date +%s.%N)
  awk -v a="$t0" -v b="$_t" -v n="$1" 'BEGIN { printf "timing: %-28s %6.2f s\n", n, b - a }'
  t0=$_t
}
# skip_on_77 STATUS WHAT : a helper said "skipped"; stop here with 77
skip_on_77() { [ "$1" -eq 77 ] && { echo "SKIP: $2 (see above)"; exit 77; }; return 0; }

# ------------------------------------------------------------------ 1. the base image, offline
sh "$BASE/make_base.sh" "$tmp/base" >"$tmp/base.digest" 2>"$tmp/base.err"
rc=$?
skip_on_77 "$rc" "make_base.sh cannot build the base here"
if [ "$rc" -ne 0 ]; then cat "$tmp/base.err"; echo "FAIL: make_base.sh exit $rc"; exit 1; fi
step "make_base (OCI)"
run 0 sh "$BASE/make_base.sh" "$tmp/base2"
same out "$(cat "$tmp/base.digest")"
if diff -r "$tmp/base" "$tmp/base2" >"$tmp/diff" 2>&1; then ok; else ko "two builds differ:"; head "$tmp/diff"; fi
SOURCE_DATE_EPOCH=1600000000 run 0 sh "$BASE/make_base.sh" "$tmp/base-epoch"
if [ "$(cat "$tmp/out")" != "$(cat "$tmp/base.digest")" ]; then ok; else ko "SOURCE_DATE_EPOCH does not change the digest"; fi
run 1 sh "$BASE/make_base.sh" "$tmp/base"   # not empty: refused
expect err 'exists and is not empty'
step "make_base again (x2)"

# Everything the layout must hold, read with Python's tarfile and hashlib only.
if python3 - "$tmp/base" "$(cat "$tmp/base.digest")" /etc/ssl/certs/ca-certificates.crt \
     >"$tmp/layout.check" 2>&1 <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
lay, want_digest, ca = sys.argv[1:4]
def blob(d):
    data = open(os.path.join(lay, "blobs", "sha256", d.split(":")[1]), "rb").read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == d, "blob digest " + d
    return data
top = json.load(open(os.path.join(lay, "index.json")))
assert len(top["manifests"]) == 1, top
ref = top["manifests"][0]
assert ref["annotations"]["org.opencontainers.image.ref.name"] == "1.36", ref
assert ref["mediaType"] == "application/vnd.oci.image.index.v1+json", ref
assert ref["digest"] == want_digest, (ref, want_digest)
index = json.loads(blob(ref["digest"]))
plats = {(m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")): m
         for m in index["manifests"]}
assert sorted(plats) == [("linux", "amd64", None), ("linux", "arm64", "v8")], plats
layers = {}
for (os_, arch, variant), desc in plats.items():
    man = json.loads(blob(desc["digest"]))
    assert man["mediaType"] == desc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert [l["mediaType"] for l in man["layers"]] == ["application/vnd.oci.image.layer.v1.tar+gzip"] * 2
    cfg = json.loads(blob(man["config"]["digest"]))
    assert (cfg["os"], cfg["architecture"], cfg.get("variant")) == (os_, arch, variant), cfg
    c = cfg["config"]
    assert c["Env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "BASE_IMAGE=busybox-base"], c
    assert c["Cmd"] == ["sh"], c
    assert c["Labels"]["org.opencontainers.image.title"] == "busybox-base", c
    assert c["Volumes"] == {"/data": {}}, c
    assert "WorkingDir" not in c and "User" not in c and "Entrypoint" not in c, c
    assert len(cfg["history"]) == 2, cfg
    tars = [gzip.decompress(blob(l["digest"])) for l in man["layers"]]
    assert cfg["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]
    layers[arch] = [l["digest"] for l in man["layers"]]
    members = {}
    for t in tars:
        with tarfile.open(fileobj=io.BytesIO(t)) as tf:
            for m in tf.getmembers():
                assert m.uid == 0 and m.gid == 0 and m.mtime == 1700000000, (m.name, m.mtime)
                members[m.name] = (m, tf.extractfile(m).read() if m.isfile() else None)
    bb, data = members["bin/busybox"]
    assert bb.isfile() and bb.mode == 0o755, bb.mode
    # ELF e_machine: 62 = x86-64, 183 = AArch64
    assert data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == {"amd64": 62, "arm64": 183}[arch], arch
    for a in ("sh", "sleep", "cat", "ls", "echo", "env", "wget", "nc"):
        m, _ = members["bin/" + a]
        assert m.issym() and m.linkname == "busybox", a
    passwd = members["etc/passwd"][1].decode()
    assert passwd.startswith("root:x:0:0:") and "\nnobody:x:65534:65534:" in passwd, passwd
    group = members["etc/group"][1].decode()
    assert group.startswith("root:x:0:") and "\nnobody:x:65534:" in group, group
    assert members["tmp"][0].isdir() and members["tmp"][0].mode == 0o1777
    assert members["etc/ssl/certs/ca-certificates.crt"][1] == open(ca, "rb").read()
# the /etc layer is one blob shared by both platforms; the busybox layers differ
assert layers["amd64"][1] == layers["arm64"][1], layers
assert layers["amd64"][0] != layers["arm64"][0], layers
size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(lay) for f in fs)
assert size < 10 * 1024 * 1024, size
print("layout: %d bytes, %d blobs" % (size, len(os.listdir(os.path.join(lay, "blobs", "sha256")))))
PY
then ok; cat "$tmp/layout.check"; else ko "the base layout:"; sed 's/^/  /' "$tmp/layout.check"; fi

run 0 sh "$BASE/make_base.sh" "$tmp/base-v2s2" --v2s2
# the same layers and configs, under Docker schema-2 media types
if python3 - "$tmp/base" "$tmp/base-v2s2" >"$tmp/v2s2.check" 2>&1 <<'PY'
import json, os, sys
def load(lay):
    b = lambda d: json.load(open(os.path.join(lay, "blobs", "sha256", d.split(":")[1])))
    top = json.load(open(os.path.join(lay, "index.json")))["manifests"][0]
    idx = b(top["digest"])
    mans = {m["platform"]["architecture"]: (m, b(m["digest"])) for m in idx["manifests"]}
    return top, idx, mans
otop, oidx, omans = load(sys.argv[1])
dtop, didx, dmans = load(sys.argv[2])
DL = "application/vnd.docker.distribution.manifest.list.v2+json"
assert dtop["mediaType"] == DL and didx["mediaType"] == DL, (dtop, didx.get("mediaType"))
assert dtop["annotations"]["org.opencontainers.image.ref.name"] == "1.36", dtop
for arch in ("amd64", "arm64"):
    (od, om), (dd, dm) = omans[arch], dmans[arch]
    assert dd["platform"] == od["platform"], (dd, od)
    assert dm["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json", dm
    assert dm["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json", dm
    assert dm["config"]["digest"] == om["config"]["digest"], arch
    assert [l["mediaType"] for l in dm["layers"]] == ["application/vnd.docker.image.rootfs.diff.tar.gzip"] * 2
    assert [l["digest"] for l in dm["layers"]] == [l["digest"] for l in om["layers"]], arch
PY
then ok; else ko "the schema-2 layout:"; sed 's/^/  /' "$tmp/v2s2.check"; fi
step "check the layouts"

# ------------------------------------------------------------------ 2. push to a real registry
registry_start none "$tmp/reg" >/dev/null || { echo "FAIL: the registry does not start"; exit 1; }
REG=$(sed 's|http://||' "$tmp/reg/url")
run 0 sh "$BASE/push_base.sh" "$tmp/base" "$REG" base/busybox:1.36
same out "$(cat "$tmp/base.digest")"    # the index went up unchanged
sko inspect --raw --tls-verify=false "docker://$REG/base/busybox:1.36" >"$tmp/raw" 2>"$tmp/err"
py raw 'assert r["mediaType"] == "application/vnd.oci.image.index.v1+json", r
assert sorted((m["platform"]["architecture"], m["platform"].get("variant")) for m in r["manifests"]) == [("amd64", None), ("arm64", "v8")], r'
run 0 sh "$BASE/push_base.sh" "$tmp/base" "$REG" base/busybox-v2s2:1.36 --v2s2
sko inspect --raw --tls-verify=false "docker://$REG/base/busybox-v2s2:1.36" >"$tmp/raw" 2>"$tmp/err"
py raw 'assert r["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json", r
assert all(m["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json" for m in r["manifests"]), r
assert sorted((m["platform"]["architecture"], m["platform"].get("variant")) for m in r["manifests"]) == [("amd64", None), ("arm64", "v8")], r'
# a schema-2 layout cannot be pushed as such (skopeo 1.9 cannot read it): a clear message
run 1 sh "$BASE/push_base.sh" "$tmp/base-v2s2" "$REG" base/nope:1
expect err 'push the OCI layout with --v2s2'
step "push both forms"

# ------------------------------------------------------------------ 3. run the base in containerd
containerd_start "$tmp/ctd"
rc=$?
skip_on_77 "$rc" "containers cannot run here"
[ "$rc" -eq 0 ] || { echo "FAIL: containerd_start"; exit 1; }
echo "containerd: snapshotter $(cat "$tmp/ctd/snapshotter"), namespace $(cat "$tmp/ctd/namespace")"
step "containerd_start"

if containerd_run "$tmp/ctd" "$REG/base/busybox:1.36" hello "$tmp/guest-hello" -- \
     sh -c 'echo hello > /run/guest-services/out'; then ok; else ko "containerd_run hello"; fi
st=$(containerd_wait "$tmp/ctd" hello 30)
if [ "$st" = 0 ]; then ok; else ko "hello exited with '$st', want 0"; cat "$tmp/ctd/logs/hello.log"; fi
if [ "$(cat "$tmp/guest-hello/out" 2>/dev/null)" = hello ]; then ok; else ko "no 'hello' in the bind folder's out"; fi
step "pull + run the base"
# the image's Env, the user and the root file system as seen from inside
# shellcheck disable=SC2016  # $BASE_IMAGE: expanded by the container's sh
containerd_run "$tmp/ctd" "$REG/base/busybox:1.36" env -- sh -c 'echo "BASE_IMAGE=$BASE_IMAGE"; id -un; pwd; ls -ld /tmp; uname -m' ||
  ko "containerd_run env"
st=$(containerd_wait "$tmp/ctd" env 30)
if [ "$st" = 0 ]; then ok; else ko "env exited with '$st'"; fi
cp "$tmp/ctd/logs/env.log" "$tmp/envlog"
expect envlog '^BASE_IMAGE=busybox-base$'   # the image's Env (PATH would be containerd's default anyway)
expect envlog '^root$'
expect envlog '^/$'
expect envlog '^drwxrwxrwt .* /tmp$'
expect envlog '^x86_64$'
# an exit status comes back through containerd_wait
containerd_run "$tmp/ctd" "$REG/base/busybox:1.36" fails -- sh -c 'exit 3' || ko "containerd_run fails"
st=$(containerd_wait "$tmp/ctd" fails 30)
if [ "$st" = 3 ]; then ok; else ko "fails exited with '$st', want 3"; fi
# a name removed and run again: containerd_wait reports the new run, not the old one's exit
if containerd_rm "$tmp/ctd" fails; then ok; else ko "containerd_rm fails"; fi
containerd_run "$tmp/ctd" "$REG/base/busybox:1.36" fails -- sh -c 'exit 5' || ko "containerd_run fails again"
st=$(containerd_wait "$tmp/ctd" fails 30)
if [ "$st" = 5 ]; then ok; else ko "fails (again) exited with '$st', want 5"; fi
# the schema-2 form runs the same
containerd_run "$tmp/ctd" "$REG/base/busybox-v2s2:1.36" v2s2 -- cat /etc/passwd || ko "containerd_run v2s2"
st=$(containerd_wait "$tmp/ctd" v2s2 30)
if [ "$st" = 0 ]; then ok; else ko "v2s2 exited with '$st'"; fi
cp "$tmp/ctd/logs/v2s2.log" "$tmp/v2s2log"
expect v2s2log '^nobody:x:65534:65534:'
step "run: env, exit 3+5, schema 2"

# ------------------------------------------------------------------ 4. an extension backend
cp -r "$ROOT/examples/backend-extension" "$tmp/backend-extension"   # its hook writes build/ there
run 0 "$HOIST" release "$tmp/backend-extension" --version 1.0.0 --to "docker://$REG/acme/backend"
step "hoist release backend"
if containerd_run "$tmp/ctd" "$REG/acme/backend:1.0.0" backend "$tmp/guest"; then ok; else ko "containerd_run backend"; fi
# metadata.json: vm.exposes.socket backend.sock; src/service.c answers every request
if containerd_http "$tmp/guest" backend.sock /hello 30 >"$tmp/hello.json"; then ok; else ko "no HTTP answer on backend.sock"; fi
same hello.json '{"hello": "from amd64"}'
if [ -S "$tmp/guest/backend.sock" ]; then ok; else ko "backend.sock is not a socket on the host"; fi
cp "$tmp/ctd/logs/backend.log" "$tmp/backendlog"
expect backendlog 'service: listening on /run/guest-services/backend.sock'
# still serving after the first request (a second one, the way the UI polls)
if containerd_http "$tmp/guest" backend.sock /hello 5 >"$tmp/hello2.json"; then ok; else ko "no second answer"; fi
same hello2.json '{"hello": "from amd64"}'
step "run backend + HTTP"

# stop leaves nothing behind: no process, mount or cgroup of this containerd
ns=$(cat "$tmp/ctd/namespace")
if containerd_stop "$tmp/ctd"; then ok; else ko "containerd_stop failed"; fi
if grep -q -F " $tmp/ctd/" /proc/self/mountinfo; then ko "mounts left under $tmp/ctd"; else ok; fi
if find /sys/fs/cgroup -maxdepth 2 -name "$ns" | grep -q .; then ko "cgroups of $ns left"; else ok; fi
left=
for p in /proc/[0-9]*; do
  c=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
  case $c in *"$tmp/ctd/"*) [ "$(sed 's/.*) \([A-Za-z]\).*/\1/' "$p/stat" 2>/dev/null)" = Z ] || left="$left ${p#/proc/}" ;; esac
done
if [ -z "$left" ]; then ok; else ko "processes left:$left"; fi
step "containerd_stop"

finish runtime.selftest
