#!/bin/sh
# hoist init --from-dockerfile on every fixture of tests/fixtures/dockerfiles, each in a copy: the
# extension.lua it writes is loaded back with `hoist run` and its base, labels, layers, config and
# before_build hook are checked; the fixture with RUN exits 3 naming its lines; an existing
# extension.lua is never overwritten. Then, for the fixtures buildah builds offline (FROM scratch,
# COPY only), buildah's image (config, labels, files) is compared with what extension.lua says.
# Exit 77 when buildah cannot run here (after everything else passed).
# usage: test_init_dockerfile.sh PATH/TO/hoist
# shellcheck disable=SC2016  # the single-quoted Python and Lua snippets are not for the shell to expand
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIX=$ROOT/tests/fixtures/dockerfiles
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=../check.sh
. "$ROOT/tests/check.sh"

# dump.lua DIR: DIR/extension.lua's table as JSON (functions as "<function>"), with what the
# before_build hook says for linux/amd64 + linux/arm64 (hook_error null: it passed), and
# hoist.label's view of the labels (labels_error or label_problems).
cat >"$tmp/dump.lua" <<'LUA'
local json = require("hoist.json")
local label = require("hoist.label")
local dir = ...
local desc = assert(loadfile(dir .. "/extension.lua", "t", setmetatable({}, { __index = _G })))()
local function plain(v)
  if type(v) == "function" then return "<function>" end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = plain(x) end
  if #v > 0 or next(v) == nil then json.array(out) end
  return out
end
local out = plain(desc)
if desc.hooks and desc.hooks.before_build then
  local ok, err = pcall(desc.hooks.before_build, { dir = dir, platforms = { "linux/amd64", "linux/arm64" } })
  out.hook_error = ok and json.null or tostring(err)
end
local ok, labels = pcall(label.extension, desc.labels)
if ok then
  local _, problems = label.validate_extension(labels)
  out.label_problems = json.array(problems or {})
else
  out.labels_error = tostring(labels)
end
print(json.encode(out, { sort_keys = true }))
LUA

# import NAME WANT_EXIT [init options...]: a copy of the fixture in $tmp/NAME, imported into itself;
# $tmp/NAME.out/.err are init's output, $tmp/NAME.json the loaded description
import() {
  name=$1 want=$2; shift 2
  rm -rf "${tmp:?}/$name"
  cp -R "$FIX/$name" "$tmp/$name"
  run "$want" "$HOIST" init --from-dockerfile "$tmp/$name/Dockerfile" "$tmp/$name" "$@"
  cp "$tmp/out" "$tmp/$name.out"; cp "$tmp/err" "$tmp/$name.err"
  run 0 "$HOIST" run "$tmp/dump.lua" "$tmp/$name"
  cp "$tmp/out" "$tmp/$name.json"
}

# ---- the extensions SDK layout: node UI + Go backend, labels, COPY --from, shell-form CMD ----
rm -rf "$tmp/extension-sdk"; cp -R "$FIX/extension-sdk" "$tmp/extension-sdk"
run 0 sh -c "cd '$tmp/extension-sdk' && '$HOIST' init --from-dockerfile ."   # PATH defaults to ./Dockerfile
expect out '^wrote \./extension\.lua from Dockerfile \(its final stage, line 28: 5 layers\)$'
expect out 'before_build: make what the build stages builder, client-builder make'
expect err '^note: Dockerfile:44: a relative path is taken from /, assuming the base image alpine sets no WORKDIR'
run 0 "$HOIST" run "$tmp/dump.lua" "$tmp/extension-sdk"; cp "$tmp/out" "$tmp/sdk.json"
py sdk.json 'assert r["name"] == "acme/extension-sdk", r["name"]; assert r["base"] == "alpine", r["base"]
assert r["platforms"] == ["linux/amd64", "linux/arm64"]'
py sdk.json 'l = r["labels"]
assert l["title"] == "Volumes Backup" and l["vendor"] == "Acme Inc." and l["api_version"] == ">= 0.3.4", l
assert l["description"] == "Back up, clone, restore and share Docker volumes.", l["description"]
assert l["icon"] == "https://example.com/volumes-backup/icon.svg" and l["publisher_url"] == "https://example.com", l
assert l["screenshots"] == [{"alt": "Backup a volume", "url": "https://example.com/volumes-backup/1.png"},
  {"alt": "Restore a volume", "url": "https://example.com/volumes-backup/2.png"}], l["screenshots"]
assert l["additional_urls"] == [{"title": "Documentation", "url": "https://example.com/docs"}], l["additional_urls"]
assert l["categories"] == ["volumes", "utility-tools"] and l["changelog"] == "<ul><li>First release</li></ul>", l
assert l["detailed_description"] == "<h1>Volumes Backup</h1><p>Back up a volume to a <b>.tar.zst</b> file,         restore it, or push it to a registry.</p>", l["detailed_description"]
assert r["label_problems"] == [], r["label_problems"]'
py sdk.json 'assert r["layers"] == [
  {"from": "build/builder/${arch}/backend/bin/service", "to": "/"},
  {"from": "docker-compose.yaml", "to": "/docker-compose.yaml"},
  {"from": "metadata.json", "to": "/metadata.json"},
  {"from": "docker.svg", "to": "/docker.svg"},
  {"from": "build/client-builder/ui/build", "to": "/ui"}], r["layers"]
assert r["config"] == {"cmd": "/service -socket /run/guest-services/backend.sock"}, r["config"]
assert r["hooks"] == {"before_build": "<function>"}, r["hooks"]
assert r["hook_error"] == "build/builder/amd64/backend/bin/service is missing (stage builder, Dockerfile:43): build it first; see before_build in extension.lua", r["hook_error"]'
cp "$tmp/extension-sdk/extension.lua" "$tmp/sdk.lua"
expect sdk.lua '^    --   Dockerfile:12 +RUN --mount=type=cache,target=/go/pkg/mod \\$'
expect sdk.lua '^    --                        go build -trimpath -ldflags="-s -w" -o bin/service$'
expect sdk.lua '^    -- stage client-builder \(Dockerfile:16\), built once for all platforms:$'
expect sdk.lua 'it must leave /ui/build at build/client-builder/ui/build \(for Dockerfile:47\)$'
expect sdk.lua '^    -- Dockerfile:43: COPY --from=builder /backend/bin/service /$'
expect sdk.lua '^    title = "Volumes Backup", -- Dockerfile:29$'
expect sdk.lua '^    vendor = "Acme Inc\.", -- Dockerfile:31$'
# once the stages' outputs exist the hook lets the release go on
mkdir -p "$tmp/extension-sdk/build/builder/amd64/backend/bin" "$tmp/extension-sdk/build/builder/arm64/backend/bin" \
  "$tmp/extension-sdk/build/client-builder/ui/build"
: >"$tmp/extension-sdk/build/builder/amd64/backend/bin/service"
run 0 "$HOIST" run "$tmp/dump.lua" "$tmp/extension-sdk"; cp "$tmp/out" "$tmp/sdk2.json"
py sdk2.json 'assert r["hook_error"] == "build/builder/arm64/backend/bin/service is missing (stage builder, Dockerfile:43): build it first; see before_build in extension.lua", r["hook_error"]'
: >"$tmp/extension-sdk/build/builder/arm64/backend/bin/service"
run 0 "$HOIST" run "$tmp/dump.lua" "$tmp/extension-sdk"; cp "$tmp/out" "$tmp/sdk3.json"
py sdk3.json 'assert r["hook_error"] is None, r["hook_error"]'

# an existing extension.lua is never overwritten, whatever the options
cp "$tmp/extension-sdk/extension.lua" "$tmp/before.lua"
run 1 "$HOIST" init --from-dockerfile "$tmp/extension-sdk/Dockerfile" "$tmp/extension-sdk"
expect err "extension\.lua' exists: init never overwrites it"
run 1 "$HOIST" init --from-dockerfile="$tmp/extension-sdk/Dockerfile" "$tmp/extension-sdk/" --name acme/other
if cmp -s "$tmp/before.lua" "$tmp/extension-sdk/extension.lua"; then ok; else ko "extension.lua was changed"; fi

# ---- LABEL blocks: continuations, quotes, escapes, HTML and JSON, later wins ----
import labels 0
py labels.json 'l = r["labels"]
assert l["title"] == "Label Zoo 2", l["title"]
assert l["description"] == "Single quotes keep $HOME and \\n as written", l["description"]
assert l["vendor"] == "Acme Inc." and l["api_version"] == ">= 0.3.3", l
assert l["screenshots"] == [{"alt": "Main tab", "url": "https://example.com/zoo/1.png"},
  {"alt": "Settings, with \"quotes\"", "url": "https://example.com/zoo/2.png"}], l["screenshots"]
assert l["detailed_description"] == "<h1>Label Zoo</h1><p>Shows <a href=\"https://example.com\">links</a> &amp; <code>code</code>.</p>", l["detailed_description"]
assert l["publisher_url"] == "https://example.com" and l["changelog"] == "<p>v1</p>" and l["account_info"] == "", l
assert l["categories"] == "utility-tools, testing-tools", l["categories"]
assert l["com.example.legacy"] == "value with spaces" and l["com.example.variant"] == "stable-1", l
assert l["com.example.quoted"] == "a \"b\" c" and l["com.example.dollar"] == "$NOT_EXPANDED", l
assert l["org.opencontainers.image.source"] == "https://example.com/zoo" and l["org.opencontainers.image.licenses"] == "MIT", l
assert len(l) == 17, sorted(l)
assert r["label_problems"] == [], r["label_problems"]
assert "base" not in r and "hooks" not in r, r'
py labels.json 'assert r["layers"] == [[{"from": "metadata.json", "to": "/metadata.json"}, {"from": "docker.svg", "to": "/docker.svg"}],
  {"from": "ui", "to": "/ui"}], r["layers"]
assert r["config"] == {"cmd": "/service -socket /run/guest-services/backend.sock"}, r["config"]'
lines labels.err 0

# ---- COPY of local files: globs, --chmod/--chown, destinations ----
import copy-modes 0
py copy-modes.json 'assert r["layers"] == [
  [{"from": "bin/.hidden", "to": "/app/bin/.hidden", "mode": "0755", "owner": "1000:1000"},
   {"from": "bin/tool-a", "to": "/app/bin/tool-a", "mode": "0755", "owner": "1000:1000"},
   {"from": "bin/tool-b", "to": "/app/bin/tool-b", "mode": "0755", "owner": "1000:1000"}],
  {"from": "conf", "to": "/etc/zoo", "owner": "10:10"},
  [{"from": "a.txt", "to": "/app/a.txt"}, {"from": "b.txt", "to": "/app/b.txt"}],
  {"from": "ui", "to": "/app/ui"},
  {"from": "notes.txt", "to": "/srv/notes.txt"},
  {"from": "with space.txt", "to": "/srv/renamed.txt"},
  [{"from": "metadata.json", "to": "/metadata.json", "mode": "0644"}, {"from": "docker.svg", "to": "/docker.svg", "mode": "0644"}]], r["layers"]
assert r["config"] == {"workdir": "/app"}, r["config"]
assert r["labels"]["title"] == "copy-modes", r["labels"]["title"]
assert r["labels"]["vendor"].startswith("<fill in:"), r["labels"]'

# ---- .dockerignore ----
import dockerignore 0
py dockerignore.json 'assert r["layers"] == [
  {"from": "ui", "to": "/ui", "exclude": ["**/*.map", "node_modules"]},
  {"from": "README.md", "to": "/docs/README.md"},
  {"from": "metadata.json", "to": "/metadata.json"}], r["layers"]'

# ---- ARG -> ENV, defaults and --build-arg, TARGETARCH, escape=` ----
import arg-env 0
py arg-env.json 'assert r["config"]["env"] == {"APP_VERSION": "v1.0.0", "APP_HOME": "/opt/app", "APP_LABEL": "zoo 1.0.0",
  "LEGACY_STYLE": "value kept with  spaces", "CHANNEL": "stable", "HAS_CHANNEL": "", "WIN_PATH": "C:\\tools"}, r["config"]["env"]
assert r["config"]["cmd"] == ["/opt/app/bin/service", "--channel", "$CHANNEL"] and r["config"]["workdir"] == "/opt/app", r["config"]
assert r["labels"]["org.opencontainers.image.version"] == "1.0.0" and r["labels"]["com.example.home"] == "/opt/app/share", r["labels"]
assert r["layers"] == [{"from": "bin/${arch}/service", "to": "/opt/app/bin/service"}, {"from": "metadata.json", "to": "/metadata.json"}], r["layers"]'
import arg-env 0 --build-arg VERSION=2.1.0 --build-arg CHANNEL=beta
py arg-env.json 'e = r["config"]["env"]
assert (e["APP_VERSION"], e["APP_LABEL"], e["CHANNEL"], e["HAS_CHANNEL"]) == ("v2.1.0", "zoo 2.1.0", "beta", "yes"), e
assert r["labels"]["org.opencontainers.image.version"] == "2.1.0", r["labels"]'
import arg-env 0 --build-arg VERSION=3 --build-arg UNUSED=1 -q
lines arg-env.err 0
import arg-env 0 --build-arg UNUSED=1
expect arg-env.err '^note: .*Dockerfile: --build-arg UNUSED is not an ARG of the final stage or of FROM: unused$'

# ---- everything a config holds ----
import scratch-config 0
py scratch-config.json 'assert r["config"] == {
  "entrypoint": "/usr/local/bin/service -socket /run/guest-services/backend.sock", "cmd": ["--verbose"],
  "workdir": "/srv/data", "user": "1000:1000", "exposed_ports": ["8080/tcp", "53/udp", "9090/tcp"],
  "volumes": ["/srv/data", "/cache", "/logs"], "stop_signal": "SIGINT",
  "healthcheck": {"test": ["CMD-SHELL", "wget -q -O- http://localhost:8080/health || exit 1"],
                  "interval": "30s", "timeout": "5s", "start_period": "10s", "retries": 3}}, r["config"]
assert r["layers"] == [{"from": "metadata.json", "to": "/metadata.json"}, {"from": "bin", "to": "/usr/local/bin"}], r["layers"]'
expect scratch-config.err '^note: .*Dockerfile:7: docker build makes the WORKDIR folder /srv/data; no layer here puts anything in it'

# ---- a final stage with RUN and other things hoist cannot do: exit 3, one line each ----
import run-final 3
P="$tmp/run-final/Dockerfile"
for want in \
  "$P:5: RUN cannot be reproduced by hoist: move it into a base image" \
  "$P:11: RUN cannot be reproduced by hoist" \
  "$P:15: ADD of the URL https://example.com/tool.tar.gz is not translated" \
  "$P:16: ADD of the gzip archive vendor.tar.gz is not translated" \
  "$P:17: COPY --chown=node:node is not translated" \
  "$P:18: ARG TOKEN (line 8) has no default and no --build-arg TOKEN=VALUE was given" \
  "$tmp/run-final/.dockerignore:3: the exception !README.md cannot be written as a hoist exclude list" \
  "$P:19: unknown instruction FROBNICATE"; do
  if grep -F -q -- "$want" "$tmp/run-final.err"; then ok; else ko "no line '$want' in:"; sed 's/^/  /' "$tmp/run-final.err"; fi
done
expect run-final.err "^hoist: 8 problems in $tmp/run-final/Dockerfile: fill them in by hand in $tmp/run-final/extension.lua$"
lines run-final.err 9
py run-final.json 'assert r["base"] == "alpine:3.20", r["base"]
assert r["layers"] == [{"from": "metadata.json", "to": "/metadata.json"}, {"from": "ui", "to": "/ui"},
  {"from": ".", "to": "/src", "exclude": ["*.log", "*.md"]}], r["layers"]
assert r["config"] == {"env": {"TOKEN_FILE": "/run/"}, "cmd": ["/bin/sh"]}, r["config"]'
cp "$tmp/run-final/extension.lua" "$tmp/run-final.lua"
expect run-final.lua '^    -- Dockerfile:11: RUN <<EOF$'
expect run-final.lua '^    -- <fill in: what this RUN made in the image, as a base image or a layer: hoist runs no commands in images>$'
expect run-final.lua '^--   Dockerfile:5: RUN cannot be reproduced by hoist'
expect run-final.lua '^--   \.dockerignore:3: the exception !README\.md'
# --json: the same problems, as data
rm -f "$tmp/run-final/extension.lua"
run 3 "$HOIST" init --json --from-dockerfile "$tmp/run-final/Dockerfile" "$tmp/run-final" --build-arg TOKEN=t
py out 'assert len(r["problems"]) == 7 and r["file"].endswith("/run-final/extension.lua"), r
assert r["layers"] == 3 and r["build_stages"] == [], r'

# ---- the same Dockerfile gives the same extension.lua, byte for byte, in separate runs ----
for f in extension-sdk labels run-final; do
  for n in 1 2; do
    mkdir -p "$tmp/same$n"; rm -rf "$tmp/same$n/$f"; cp -R "$FIX/$f" "$tmp/same$n/$f"
    "$HOIST" init -q --from-dockerfile "$tmp/same$n/$f/Dockerfile" "$tmp/same$n/$f" >/dev/null 2>&1
  done
  if [ -s "$tmp/same1/$f/extension.lua" ] && cmp -s "$tmp/same1/$f/extension.lua" "$tmp/same2/$f/extension.lua"; then ok
  else ko "two imports of $f differ"; diff "$tmp/same1/$f/extension.lua" "$tmp/same2/$f/extension.lua" | head -20; fi
done

# ---- init into another folder: paths stay relative to DIR, a context outside DIR is a problem ----
mkdir -p "$tmp/parent"; cp -R "$FIX/labels" "$tmp/parent/ctx"
run 0 "$HOIST" init --from-dockerfile "$tmp/parent/ctx/Dockerfile" "$tmp/parent"
run 0 "$HOIST" run "$tmp/dump.lua" "$tmp/parent"
py out 'assert r["layers"] == [[{"from": "ctx/metadata.json", "to": "/metadata.json"}, {"from": "ctx/docker.svg", "to": "/docker.svg"}],
  {"from": "ctx/ui", "to": "/ui"}], r["layers"]
assert r["name"] == "acme/parent", r["name"]'
run 3 "$HOIST" init --from-dockerfile "$tmp/parent/ctx/Dockerfile" "$tmp/elsewhere"
expect err 'the build context \(the Dockerfile.s folder\) is outside DIR'
if [ -f "$tmp/elsewhere/extension.lua" ]; then ok; else ko "init did not make DIR and write extension.lua"; fi

# ---- usage ----
run 2 "$HOIST" init --from-dockerfile "$tmp/none/Dockerfile" "$tmp/x";   expect err "^hoist: no Dockerfile at '$tmp/none/Dockerfile'$"
run 2 "$HOIST" init --from-dockerfile "$tmp/parent" "$tmp/x";             expect err "is a folder, not a Dockerfile"
run 2 "$HOIST" init --from-dockerfile a b c;                               expect err '^hoist: usage: hoist init'
run 2 "$HOIST" init --from-dockerfile;                                     expect err '^hoist: usage: hoist init'
run 2 "$HOIST" init --from-dockerfile "$FIX/labels/Dockerfile" "$tmp/y" --build-arg 'bad name=1'
expect err "invalid --build-arg 'bad name=1'"
run 2 "$HOIST" init "$tmp/z" --build-arg A=1;                              expect err '\-\-build-arg goes with --from-dockerfile'
run 2 "$HOIST" init --from-dockerfile "$FIX/labels/Dockerfile" "$tmp/y" --frob; expect err "unknown option '--frob'"
if [ ! -e "$tmp/y" ] && [ ! -e "$tmp/z" ]; then ok; else ko "a usage error wrote something"; fi

# ---- buildah: the same Dockerfile built for real, compared with extension.lua ----
# side.lua DIR OUT PLATFORM: hoist's view, one uncompressed layer per entry (hoist.oci builds it
# from from/to/mode) with the entry's owner and exclude, the config, and the labels as hoist.label
# encodes them.
cat >"$tmp/side.lua" <<'LUA'
local extension = require("hoist.extension")
local fs = require("hoist.fs")
local json = require("hoist.json")
local label = require("hoist.label")
local oci = require("hoist.oci")
local dir, out, platform = ...
local desc = assert(loadfile(dir .. "/extension.lua", "t", setmetatable({}, { __index = _G })))()
local p = oci.parse_platform(platform)
local store = assert(oci.layout(out))
local root = assert(fs.realpath(dir))
local entries = json.array({})
for _, layer in ipairs(desc.layers) do
  local list = (layer.from or layer.to) and { layer } or layer
  for _, e in ipairs(list) do
    local from = dir .. "/" .. extension.expand(e.from, p)
    local to = extension.expand(e.to, p)
    local d = oci.layer(store, { { from = from, to = to, mode = e.mode } },
      { compression = "none", mtime = 0, root = root, cache = false })
    entries[#entries + 1] = { tar = store:blob_path(d.digest), to = to, is_dir = fs.stat(from, true).type == "dir",
      name = from:match("([^/]+)$"), owner = e.owner or json.null, exclude = json.array(e.exclude or {}) }
  end
end
print(json.encode({ entries = entries, config = desc.config or json.object({}), labels = label.extension(desc.labels) }))
LUA

# compare.py INSPECT OCI_DIR SIDE SKIP_ENV TITLE: buildah's image against hoist's view (TITLE: the
# title init gives when the Dockerfile has none)
cat >"$tmp/compare.py" <<'PY'
import hashlib, json, os, re, sys, tarfile
inspect, oci_dir, side = json.load(open(sys.argv[1])), sys.argv[2], json.load(open(sys.argv[3]))
skip_env = set(x for x in sys.argv[4].split(",") if x)
default_title = sys.argv[5]
problems, checks = [], 0
def check(cond, what):
    global checks
    checks += 1
    if not cond:
        problems.append(what)

def norm(name):
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")

def members(path):
    with tarfile.open(path) as tf:
        for m in tf.getmembers():
            name = norm(m.name)
            if name in ("", "."):
                continue
            data = None
            if m.isfile():
                data = hashlib.sha256(tf.extractfile(m).read()).hexdigest()
            kind = "dir" if m.isdir() else "file" if m.isfile() else "symlink" if m.issym() else "other"
            yield name, {"type": kind, "mode": m.mode & 0o7777, "uid": m.uid, "gid": m.gid,
                         "data": data if m.isfile() else m.linkname}

# buildah: its layers in order (no whiteouts in these images)
index = json.load(open(os.path.join(oci_dir, "index.json")))
def blob(digest):
    return os.path.join(oci_dir, "blobs", *digest.split(":"))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
theirs = {}
for layer in manifest["layers"]:
    for name, m in members(blob(layer["digest"])):
        theirs[name] = m

# the exclude patterns of extension.lua: relative to the entry, '*' '?' '[..]' within a name,
# '**' any number of folders; a pattern that matches a folder excludes what is under it
def pattern(p):
    out, i = "^", 0
    while i < len(p):
        c = p[i]
        if c == "*" and p[i + 1:i + 2] == "*":
            i += 2
            if p[i:i + 1] == "/":
                i += 1
            out += ".*" if i >= len(p) else "(.*/)?"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "\\" and i + 1 < len(p):
            i += 1
            out += re.escape(p[i])
        elif c == "[" and "]" in p[i + 2:]:
            j = p.index("]", i + 2)
            body = p[i + 1:j]
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + "$")

def excluded(rel, pats):
    parts = rel.split("/")
    return any(r.match("/".join(parts[:k])) for k in range(1, len(parts) + 1) for r in pats)

ours, explicit = {}, set()
for e in side["entries"]:
    to = norm(e["to"])
    root = to if e["is_dir"] or not e["to"].endswith("/") else norm(e["to"] + e["name"])
    pats = [pattern(p) for p in e["exclude"]]
    owner = [int(x) for x in e["owner"].split(":")] if e["owner"] else None
    for name, m in members(e["tar"]):
        under = name == root or root == "" or name.startswith(root + "/")
        if under:
            rel = name[len(root) + 1:] if root and name != root else ("" if name == root else name)
            if rel and excluded(rel, pats):
                continue
            if owner:
                m["uid"], m["gid"] = owner
            explicit.add(name)
        elif name in ours:
            continue            # a parent folder made for this entry leaves an earlier one alone
        ours[name] = m

cfg = inspect["Docker"]["config"]
want_cfg = side["config"]
workdir = want_cfg.get("workdir") or ""
made_by_workdir = set()
parts = norm(workdir).split("/") if workdir else []
for k in range(1, len(parts) + 1):
    made_by_workdir.add("/".join(parts[:k]))

for name in sorted(set(theirs) | set(ours)):
    a, b = theirs.get(name), ours.get(name)
    if a is None:
        check(False, "only in hoist's layers: " + name)
    elif b is None:
        check(a["type"] == "dir" and name in made_by_workdir, "only in buildah's image: %s %s" % (name, a))
    elif a["type"] == "dir" and b["type"] == "dir" and name not in explicit:
        check(True, name)       # a parent folder made on the way: it exists in both
    else:
        check(a == b, "%s differs: buildah %s, hoist %s" % (name, a, b))

def command(v):
    if v is None or v == {} or v == []:
        return []
    return ["/bin/sh", "-c", v] if isinstance(v, str) else v
def duration(s):
    if s is None:
        return 0
    unit = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    total = 0
    for num, u in re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", s):
        total += float(num) * unit[u]
    return int(total)

env = dict(x.split("=", 1) for x in (cfg.get("Env") or []))
want_env = dict(want_cfg.get("env") or {})
if "PATH" not in want_env:
    env.pop("PATH", None)           # the default PATH buildah (and BuildKit) add to a scratch image
for k in skip_env:
    env.pop(k, None); want_env.pop(k, None)
check(env == want_env, "Env: buildah %s, extension.lua %s" % (env, want_env))
check(command(cfg.get("Cmd")) == command(want_cfg.get("cmd")), "Cmd: %s vs %s" % (cfg.get("Cmd"), want_cfg.get("cmd")))
check(command(cfg.get("Entrypoint")) == command(want_cfg.get("entrypoint")),
      "Entrypoint: %s vs %s" % (cfg.get("Entrypoint"), want_cfg.get("entrypoint")))
check((cfg.get("WorkingDir") or "") == workdir, "WorkingDir: %s vs %s" % (cfg.get("WorkingDir"), workdir))
check((cfg.get("User") or "") == (want_cfg.get("user") or ""), "User: %s vs %s" % (cfg.get("User"), want_cfg.get("user")))
# buildah keeps "9090/TCP" as written; BuildKit lowercases the protocol (test_dockerfile.lua)
ports = sorted(k.lower() for k in (cfg.get("ExposedPorts") or {}))
check(ports == sorted(want_cfg.get("exposed_ports") or []), "ExposedPorts: %s vs %s" % (ports, want_cfg.get("exposed_ports")))
check(sorted(cfg.get("Volumes") or {}) == sorted(want_cfg.get("volumes") or []),
      "Volumes: %s vs %s" % (cfg.get("Volumes"), want_cfg.get("volumes")))
check((cfg.get("StopSignal") or "") == (want_cfg.get("stop_signal") or ""),
      "StopSignal: %s vs %s" % (cfg.get("StopSignal"), want_cfg.get("stop_signal")))
hc, want_hc = cfg.get("Healthcheck"), want_cfg.get("healthcheck")
if hc or want_hc:
    got = {"test": hc.get("Test"), "interval": hc.get("Interval", 0), "timeout": hc.get("Timeout", 0),
           "start_period": hc.get("StartPeriod", 0), "retries": hc.get("Retries", 0)} if hc else None
    want = {"test": want_hc["test"], "interval": duration(want_hc.get("interval")),
            "timeout": duration(want_hc.get("timeout")), "start_period": duration(want_hc.get("start_period")),
            "retries": want_hc.get("retries", 0)} if want_hc else None
    check(got == want, "Healthcheck: %s vs %s" % (got, want))
labels = dict(cfg.get("Labels") or {})
labels.pop("io.buildah.version", None)
want_labels = side["labels"]
for k in sorted(set(labels) | set(want_labels)):
    a, b = labels.get(k), want_labels.get(k)
    if k in ("com.docker.extension.screenshots", "com.docker.extension.additional-urls") and a and b:
        a, b = json.loads(a), json.loads(b)   # hoist writes the same JSON without the spaces
    if a is None and ("<fill in:" in b or (k == "org.opencontainers.image.title" and b == default_title)):
        continue                # what init adds for a required label the Dockerfile does not set
    check(a == b, "label %s: buildah %r, extension.lua %r" % (k, a, b))
for p in problems:
    print("  " + p)
print("%d checks, %d differences" % (checks, len(problems)))
sys.exit(1 if problems else 0)
PY

BH="buildah --storage-driver vfs --root $tmp/bh/storage --runroot $tmp/bh/run"
# compare NAME SKIP_ENV [--build-arg NAME=VALUE...]: init and buildah on the same copy, compared
compare() {
  name=$1 skip=$2; shift 2
  d="$tmp/bh-$name"
  rm -rf "$d"; cp -R "$FIX/$name" "$d"
  run 0 "$HOIST" init --from-dockerfile "$d/Dockerfile" "$d" "$@"
  # shellcheck disable=SC2086
  if (cd "$d" && $BH bud --format docker --platform "$platform" -q -f Dockerfile -t "$name" "$@" . ) >"$tmp/bh.out" 2>&1 &&
     $BH inspect --type image "$name" >"$tmp/bh-$name.inspect.json" 2>"$tmp/bh.out" &&
     $BH push "$name" "oci:$tmp/bh-$name.oci:x" >"$tmp/bh.out" 2>&1; then ok
  else ko "buildah could not build $name:"; sed 's/^/  /' "$tmp/bh.out"; return; fi
  run 0 "$HOIST" run "$tmp/side.lua" "$d" "$tmp/bh-$name.hoist" "$platform"
  cp "$tmp/out" "$tmp/bh-$name.side.json"
  if python3 "$tmp/compare.py" "$tmp/bh-$name.inspect.json" "$tmp/bh-$name.oci" "$tmp/bh-$name.side.json" "$skip" "bh-$name" \
      >"$tmp/bh-$name.cmp" 2>&1; then ok; else ko "buildah and extension.lua differ for $name $*:"; cat "$tmp/bh-$name.cmp"; fi
  echo "buildah $name $*: $(tail -n 1 "$tmp/bh-$name.cmp")"
}

platform=$("$HOIST" eval 'print(require("hoist.host").platform)')
mkdir -p "$tmp/bh"
if ! command -v buildah >/dev/null 2>&1 || ! $BH images >"$tmp/bh.out" 2>&1; then
  finish init_dockerfile || exit 1
  echo "SKIP: buildah cannot run here ($(head -n 1 "$tmp/bh.out" 2>/dev/null || echo 'not installed')): not compared with a real build"
  exit 77
fi
compare labels ""
compare copy-modes ""
compare dockerignore ""
compare scratch-config ""
# buildah's lexer ignores `# escape=`` in ENV values ("C:tools"); BuildKit keeps "C:\tools" (checked above)
compare arg-env WIN_PATH
compare arg-env WIN_PATH --build-arg VERSION=2.1.0 --build-arg CHANNEL=beta

finish init_dockerfile
