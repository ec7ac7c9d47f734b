#!/bin/sh
# shellcheck disable=SC2016  # ${arch}, ${DESKTOP_PLUGIN_IMAGE}: for hoist and Docker, not the shell
# Docker's real verdicts (EXTENSIONS.md section 9, docs/validation.md; hoist issue 12): one case
# that passes and one that fails per rule, each starting from a complete valid extension and
# changing one thing. A failing case asserts exit 3, the culprit named on stderr, and nothing
# tagged or built (the destination already holds 0.9.0 and keeps its index.json and blobs byte
# for byte). A passing case asserts exit 0, the version tagged in a fresh layout, and, where the
# rule is a warning, the "warning: ..." line naming the culprit. Each case's comment says which
# public evidence it reproduces. Then the same rules on built images: `hoist validate`, `promote`
# and `index` with --private, --sdk, --strict, and indexes holding attestation manifests.
# usage: test_docker_rules.sh PATH/TO/hoist   (HOIST_TEST_VERBOSE=1 prints each case's stderr)
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
umask 022
export LC_ALL=C.UTF-8
unset SOURCE_DATE_EPOCH
command -v python3 >/dev/null 2>&1 || { echo "python3 is missing"; exit 77; }
tmp=$(mktemp -d)
if [ -n "$HOIST_TEST_KEEP" ]; then echo "keeping $tmp"; else
  trap 'rm -rf "$tmp"' EXIT
fi
export XDG_CACHE_HOME="$tmp/cache"
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# ---------------------------------------------------------------- the valid extension
# write_ext DIR : extension.lua from $LAYERS, $LABEL_EDIT (Lua statements on `labels`) and $EXTRA
# (more top-level keys, each ending with a comma), all defaulting to a valid description.
# shellcheck disable=SC2016  # ${arch} is for hoist, not the shell
DEFAULT_LAYERS='{
    { from = "metadata.json", to = "/metadata.json" },
    { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" } },
    { from = "host/${arch}", to = "/" },
  }'
write_ext() {
  cat >"$1/extension.lua" <<LUA
local labels = {
  title = "Rules", description = "Every rule of Docker's validate.", vendor = "hoist tests",
  api_version = ">= 0.3.3", icon = "https://example.com/rules/icon.svg",
  screenshots = { { alt = "one", url = "https://example.com/rules/1.png" } },
  detailed_description = "<p>Rules.</p>", publisher_url = "https://example.com/rules",
  additional_urls = { { title = "Docs", url = "https://example.com/rules/docs" } },
  changelog = "<p>Changes.</p>", categories = { "utility-tools" },
}
${LABEL_EDIT:-}
return {
  name = "hoist-tests/rules",
  platforms = { "linux/amd64", "linux/arm64" },
  labels = labels,
  layers = ${LAYERS:-$DEFAULT_LAYERS},
  ${EXTRA:-}
}
LUA
}
META_OK='{"icon": "docker.svg",
 "ui": {"dashboard-tab": {"title": "Rules", "root": "/ui", "src": "index.html"}},
 "host": {"binaries": [{"darwin": [{"path": "/darwin/tool"}],
                        "windows": [{"path": "/windows/tool.exe"}],
                        "linux": [{"path": "/linux/tool"}]}]}}'
base=$tmp/base
mkdir -p "$base/ui"
printf '%s\n' "$META_OK" >"$base/metadata.json"
printf '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>\n' >"$base/docker.svg"
printf '<!DOCTYPE html><title>rules</title>\n' >"$base/ui/index.html"
for arch in amd64 arm64; do
  mkdir -p "$base/host/$arch/darwin" "$base/host/$arch/windows" "$base/host/$arch/linux"
  for p in darwin/tool windows/tool.exe linux/tool; do
    printf '#!/bin/sh\necho "%s %s"\n' "$p" "$arch" >"$base/host/$arch/$p"; chmod 0755 "$base/host/$arch/$p"
  done
done
write_ext "$base"

dest=$tmp/dest
if "$HOIST" release "$base" --version 0.9.0 --to "oci:$dest" >"$tmp/out" 2>"$tmp/err"; then pass
else
  fail "the valid extension does not release (exit $?): the cases below would prove nothing"
  sed 's/^/  stderr: /' "$tmp/err"; echo "$passed passed, $failed failed"; exit 1
fi
if [ -s "$tmp/err" ]; then fail "the valid extension gives warnings"; sed 's/^/  stderr: /' "$tmp/err"; else pass; fi
cp "$dest/index.json" "$tmp/index.before"
(cd "$dest" && find blobs -type f | sort) >"$tmp/blobs.before"
cp -a "$dest" "$tmp/dest.saved"

n=0
new_case() {
  name=$1; n=$((n + 1)); case=$tmp/case$n
  cp -a "$base" "$case"
  LAYERS='' LABEL_EDIT='' EXTRA=''
}
meta() { printf '%s\n' "$1" >"$case/metadata.json"; }
meta_sub() { meta "$(printf '%s' "$META_OK" | sed "$1")"; }

# has FILE -F|-E PATTERN : $tmp/FILE contains the pattern (the case fails otherwise)
has() {
  if grep -q "$2" -- "$3" "$tmp/$1"; then return 0; fi
  ok=0; fail "$name: $1 does not contain '$3'"
}
# run_release ARGS... : `hoist release $case --to ...` with the other arguments; $rc
run_release() {
  "$HOIST" release "$case" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  [ -n "$HOIST_TEST_VERBOSE" ] && { echo "== $name (exit $rc)"; sed 's/^/   /' "$tmp/err"; }
}
# expect_invalid [ARGS...] -- -F|-E PATTERN ... : exit 3, every pattern on stderr, nothing tagged
expect_invalid() {
  extra=""
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do extra="$extra $1"; shift; done
  [ "${1:-}" = "--" ] && shift
  # shellcheck disable=SC2086
  run_release --version 1.0.0 --to "oci:$dest" $extra
  ok=1
  if [ $rc -ne 3 ]; then ok=0; fail "$name: exit $rc, want 3"; fi
  while [ $# -gt 1 ]; do has err "$1" "$2"; shift 2; done
  if ! cmp -s "$dest/index.json" "$tmp/index.before"; then
    ok=0; fail "$name: the destination's index.json changed (something was tagged)"
  fi
  (cd "$dest" && find blobs -type f | sort) >"$tmp/blobs.after"
  if ! cmp -s "$tmp/blobs.before" "$tmp/blobs.after"; then
    ok=0; fail "$name: blobs were written to the destination (nothing may be built)"
  fi
  if [ $ok -eq 1 ]; then pass; else
    sed 's/^/  stderr: /' "$tmp/err" | head -20
    rm -rf "$dest"; cp -a "$tmp/dest.saved" "$dest"
  fi
}
# expect_valid [ARGS...] -- -F|-E PATTERN ... : exit 0 into a fresh layout, 1.0.0 tagged there,
# every pattern on stderr (the warnings); with no pattern, stderr must have no warning at all
expect_valid() {
  extra=""
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do extra="$extra $1"; shift; done
  [ "${1:-}" = "--" ] && shift
  out_dest=$tmp/ok$n
  # shellcheck disable=SC2086
  run_release --version 1.0.0 --to "oci:$out_dest" $extra
  ok=1
  if [ $rc -ne 0 ]; then ok=0; fail "$name: exit $rc, want 0"; fi
  if ! grep -q '"org.opencontainers.image.ref.name": *"1.0.0"' "$out_dest/index.json" 2>/dev/null \
     && ! tr -d ' \n' <"$out_dest/index.json" 2>/dev/null | grep -q '"org.opencontainers.image.ref.name":"1.0.0"'; then
    ok=0; fail "$name: 1.0.0 was not tagged"
  fi
  if [ $# -eq 0 ] && grep -q '^warning: ' "$tmp/err"; then ok=0; fail "$name: unexpected warnings"; fi
  while [ $# -gt 1 ]; do has err "$1" "$2"; shift 2; done
  if [ $ok -eq 1 ]; then pass; else sed 's/^/  stderr: /' "$tmp/err" | head -20; fi
}

# ---------------------------------------------------------------- categories
# docker/extensions-submissions #147: `(required) image label "com.docker.extension.categories" is
# set to empty string`; #40: reported as (required) when missing.
new_case "categories missing"
LABEL_EDIT='labels.categories = nil'; write_ext "$case"
expect_invalid -- -F '(required) image label "com.docker.extension.categories" is missing'
new_case "categories empty"
LABEL_EDIT='labels.categories = {}'; write_ext "$case"
expect_invalid -- -F '(required) image label "com.docker.extension.categories" is set to empty string'
# Published extensions passed validate with "Utility tools", "utility", "DATABASES & STORAGE"
# (section 9): values outside the documented list are a warning only.
new_case "categories outside the documented list"
LABEL_EDIT='labels.categories = { "Utility tools", "DATABASES & STORAGE" }'; write_ext "$case"
expect_valid -- -F 'warning: image label "com.docker.extension.categories" has "Utility tools"' \
  -F '"DATABASES & STORAGE"'
new_case "categories outside the documented list, --strict"
LABEL_EDIT='labels.categories = { "utility" }'; write_ext "$case"
expect_invalid --strict -- -F '"utility"'

# ---------------------------------------------------------------- the title rule
# collabnix/redisinsight-docker-extension#3: `title "RedisInsight Extension for Docker Desktop"
# should not include "extension"`; the title label only, in any case.
new_case "title includes Extension"
LABEL_EDIT='labels.title = "RedisInsight Extension for Docker Desktop"'; write_ext "$case"
expect_invalid -- -F 'title "RedisInsight Extension for Docker Desktop" should not include "extension"'
new_case "extension in the description and the dashboard tab's title"
LABEL_EDIT='labels.description = "An extension for Docker Desktop"'; write_ext "$case"
meta_sub 's/"title": "Rules"/"title": "Rules Extension"/'
expect_valid --

# ---------------------------------------------------------------- additional-urls
# Optional ("" passes, absent is only a notice); docker/labs-ai-tools-for-devs#284: when set, a
# JSON array of objects each with a title and a url.
new_case "additional-urls absent"
LABEL_EDIT='labels.additional_urls = nil'; write_ext "$case"
expect_valid --
new_case "additional-urls empty string"
LABEL_EDIT='labels.additional_urls = ""'; write_ext "$case"
expect_valid --
new_case "additional-urls entry without a title"
LABEL_EDIT='labels.additional_urls = { { url = "https://example.com/rules/docs" } }'; write_ext "$case"
expect_invalid -- -F 'image label "com.docker.extension.additional-urls" has entry 1 without "title"'

# ---------------------------------------------------------------- the icon label
# Two 2025 submitters replaced an icon path by a URL to pass: an http(s) URL.
new_case "icon label is a path"
LABEL_EDIT='labels.icon = "docker.svg"'; write_ext "$case"
expect_invalid -- -F '(required) image label "com.docker.desktop.extension.icon" ("docker.svg") is not an http(s) URL'
new_case "icon label is an http URL"
LABEL_EDIT='labels.icon = "http://example.com:8080/rules/icon.png?v=2"'; write_ext "$case"
expect_valid --

# ---------------------------------------------------------------- screenshots
# Fixes of 2023 and 2025 (section 9): a JSON array of {alt, url}; one screenshot is enough.
new_case "screenshots entry without alt"
LABEL_EDIT='labels.screenshots = { { url = "https://example.com/rules/1.png" } }'; write_ext "$case"
expect_invalid -- -F '(required) image label "com.docker.extension.screenshots" has entry 1 without "alt"'
new_case "screenshots not JSON"
LABEL_EDIT='labels.screenshots = "https://example.com/rules/1.png"'; write_ext "$case"
expect_invalid -- -F '"com.docker.extension.screenshots" is not valid JSON'
new_case "screenshots: one is enough"
expect_valid --

# ---------------------------------------------------------------- vm: image, composefile or both
# Published extensions with both vm.image and vm.composefile (and exposes) passed in 2025.
new_case "vm with image and composefile"
printf 'services:\n  backend:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n' >"$case/docker-compose.yaml"
meta '{"icon": "docker.svg",
 "vm": {"image": "${DESKTOP_PLUGIN_IMAGE}", "composefile": "docker-compose.yaml", "exposes": {"socket": "rules.sock"}},
 "ui": {"dashboard-tab": {"title": "Rules", "root": "/ui", "src": "index.html", "backend": {"socket": "rules.sock"}}}}'
LAYERS='{ { from = "metadata.json", to = "/metadata.json" },
  { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" }, { from = "docker-compose.yaml", to = "/docker-compose.yaml" } },
  { from = "host/${arch}", to = "/" } }'
EXTRA='config = { cmd = { "/linux/tool" } },'; write_ext "$case"
expect_valid --
vm_img=$out_dest   # the runtime checks on built images start from it
new_case "vm with neither image nor composefile"
meta '{"icon": "docker.svg", "vm": {"exposes": {"socket": "rules.sock"}},
 "ui": {"dashboard-tab": {"title": "Rules", "root": "/ui", "src": "index.html"}}}'
expect_invalid -- -F 'metadata.json: vm must define either image or composefile'

# ---------------------------------------------------------------- ui.dashboard-tab.src
# Portainer's published extension has a src that is a URL: no file to look for.
new_case "src is a URL"
meta_sub 's,"src": "index.html","src": "http://localhost:9000/#!/home",'
expect_valid --
new_case "src names a file that is missing"
meta_sub 's,"src": "index.html","src": "main.html",'
expect_invalid -- -F 'metadata.json: ui.dashboard-tab root "/ui" + src "main.html" is missing from the linux/amd64 and linux/arm64 images (no file at /ui/main.html)'
# A ?query or #fragment is not part of the file (published extensions carry them).
new_case "src with a query and a fragment"
meta_sub 's,"src": "index.html","src": "index.html?embedded=docker#top",'
expect_valid --
new_case "src with a query, the file missing (named as written)"
meta_sub 's,"src": "index.html","src": "app.html?embedded=docker",'
expect_invalid -- -F 'src "app.html?embedded=docker" is missing' -F '/ui/app.html)'
# src is relative to root, a leading "/" included: root "/ui" + src "/index.html" is /ui/index.html.
new_case "src with a leading slash"
meta_sub 's,"src": "index.html","src": "/index.html",'
expect_valid --
new_case "src with a leading slash, missing under root"
meta_sub 's,"src": "index.html","src": "/nope.html",'
expect_invalid -- -F 'root "/ui" + src "/nope.html"' -F '(no file at /ui/nope.html)'

# ---------------------------------------------------------------- host binaries
# Docker's multi-arch docs ship the Windows kubectl.exe in the amd64 image only: on some
# platforms is a warning; on none is an error (test_release_errors.sh covers --strict).
new_case "windows binary in the amd64 image only"
rm "$case/host/arm64/windows/tool.exe"
expect_valid -- -F 'warning: metadata.json: host.binaries[0].windows[0] "/windows/tool.exe" is missing from the linux/arm64 image'
new_case "windows binary in no image"
rm "$case/host/arm64/windows/tool.exe" "$case/host/amd64/windows/tool.exe"
expect_invalid -- -F 'host.binaries[0].windows[0] "/windows/tool.exe" is missing from the linux/amd64 and linux/arm64 images'
# `host.binaries: []` and any subset of the three OSes pass (section 9)
new_case "host binaries for linux only"
meta_sub 's/"darwin": \[{"path": "\/darwin\/tool"}\],//; s/"windows": \[{"path": "\/windows\/tool.exe"}\],//'
expect_valid --

# ---------------------------------------------------------------- names quoted as written
new_case "an icon file name with spaces and parentheses"
cp "$case/docker.svg" "$case/my icon (1).svg"
meta_sub 's/"icon": "docker.svg"/"icon": "my icon (1).svg"/'
LAYERS='{ { from = "metadata.json", to = "/metadata.json" },
  { { from = "my icon (1).svg", to = "/my icon (1).svg" }, { from = "ui", to = "/ui" } },
  { from = "host/${arch}", to = "/" } }'; write_ext "$case"
expect_valid --
new_case "a missing icon file with spaces and parentheses"
meta_sub 's|"icon": "docker.svg"|"icon": "./my icon (1).svg"|'
expect_invalid -- -F 'metadata.json: icon "./my icon (1).svg" is missing from the linux/amd64 and linux/arm64 images (no file at /my icon (1).svg)'

# ---------------------------------------------------------------- label names
# A misspelt Docker label is ignored by Docker (the real one stays unset): extension.lua refuses it,
# with the field meant, on one line (not also as "categories is missing").
new_case "a raw key com.docker.extension.category"
LABEL_EDIT='labels.categories = nil; labels["com.docker.extension.category"] = "utility-tools"'; write_ext "$case"
expect_invalid -- -F "extension.lua: unknown label \"com.docker.extension.category\" in labels (did you mean 'categories'?)"
if grep -q 'categories" is missing' "$tmp/err"; then fail "$name: also reported as missing"; else pass; fi
new_case "a misspelt field catgories"
LABEL_EDIT='labels.categories = nil; labels.catgories = { "utility-tools" }'; write_ext "$case"
expect_invalid -- -F "extension.lua: unknown key 'catgories' in labels (did you mean 'categories'?)"
new_case "raw keys outside Docker's namespaces"
LABEL_EDIT='labels["org.opencontainers.image.licenses"] = "MIT"; labels["com.example.team"] = "ours"'; write_ext "$case"
expect_valid --

# ---------------------------------------------------------------- SDK compatibility
# docker/extensions-submissions failed.txt: validate --sdk-compatibility on api.version "0.3.0".
new_case "--sdk 0.3.3 with api.version 0.3.0"
LABEL_EDIT='labels.api_version = "0.3.0"'; write_ext "$case"
expect_invalid --sdk 0.3.3 -- -F '(required) image label "com.docker.desktop.extension.api.version" ("0.3.0") is incompatible with current SDK version "0.3.3". Consider changing it to ">=0.3.3"'
new_case "--sdk 0.3.3 with api.version >=0.3.3"
LABEL_EDIT='labels.api_version = ">=0.3.3"'; write_ext "$case"
expect_valid --sdk 0.3.3 --
new_case "sdk in extension.lua, a bare api.version of an older SDK"
LABEL_EDIT='labels.api_version = "0.3.3"'; EXTRA='sdk = "0.3.4",'; write_ext "$case"
expect_invalid -- -F '("0.3.3") is incompatible with current SDK version "0.3.4". Consider changing it to ">=0.3.4"'
new_case "sdk in extension.lua, a constraint with a comma (AND)"
LABEL_EDIT='labels.api_version = ">= 0.2.0, < 0.4"'; EXTRA='sdk = "0.3.4",'; write_ext "$case"
expect_valid --
new_case "--sdk that is not a version"
run_release --version 1.0.0 --to "oci:$dest" --sdk latest
if [ $rc -eq 2 ] && grep -q "invalid --sdk 'latest'" "$tmp/err"; then pass; else fail "$name: exit $rc"; fi

# ---------------------------------------------------------------- private extensions
# `docker extension install` needs metadata.json, the title, api.version and both platforms; the
# other labels only the Marketplace reads.
new_case "marketplace = false, Marketplace-only labels missing"
LABEL_EDIT='labels.changelog = nil; labels.screenshots = nil; labels.icon = "icon.svg"'
EXTRA='marketplace = false,'; write_ext "$case"
expect_valid -- -F 'warning: (required) image label "com.docker.extension.changelog" is missing (the Marketplace needs it' \
  -F 'warning: (required) image label "com.docker.desktop.extension.icon" ("icon.svg") is not an http(s) URL'
new_case "--private, Marketplace-only labels missing, --strict"
LABEL_EDIT='labels.changelog = nil'; write_ext "$case"
expect_invalid --private --strict -- -F 'image label "com.docker.extension.changelog" is missing'
new_case "marketplace = false, the title missing"
LABEL_EDIT='labels.title = nil'; EXTRA='marketplace = false,'; write_ext "$case"
expect_invalid -- -F '(required) image label "org.opencontainers.image.title" is missing'
new_case "--private, api.version missing"
LABEL_EDIT='labels.api_version = nil'; write_ext "$case"
expect_invalid --private -- -F '(required) image label "com.docker.desktop.extension.api.version" is missing'
new_case "--private, one platform"
expect_invalid --private --platform linux/amd64 -- -F 'platform "linux/arm64" is missing'
new_case "--private, metadata.json missing"
rm "$case/metadata.json"
expect_invalid --private -- -F 'metadata.json is missing'
new_case "marketplace is not a boolean"
EXTRA='marketplace = "no",'; write_ext "$case"
expect_invalid -- -F 'extension.lua: marketplace must be true or false'

# ---------------------------------------------------------------- warnings in --json
new_case "--json lists the warnings"
LABEL_EDIT='labels.categories = { "games" }'; write_ext "$case"
run_release --version 1.0.0 --to "oci:$tmp/json$n" --json
if [ $rc -eq 0 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
assert r["tags"] == ["1.0.0"], r
assert len(r["warnings"]) == 1 and "\"games\"" in r["warnings"][0], r["warnings"]' "$tmp/out"; then pass
else fail "$name: exit $rc"; cat "$tmp/out"; fi

# ---------------------------------------------------------------- dry runs on a clean checkout
# A layer source a before_build hook produces does not exist yet in a dry run (hooks do not run).
# shellcheck disable=SC2016
HOOK_LAYERS='{ { from = "metadata.json", to = "/metadata.json" },
    { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" } },
    { from = "build/${arch}", to = "/" } }'
HOOK='hooks = { before_build = function(ctx)
    assert(os.execute(string.format("cp -R %q/host %q/build", ctx.dir, ctx.dir)))
  end },'
new_case "--dry-run with a before_build hook, its output not there yet"
LAYERS=$HOOK_LAYERS EXTRA=$HOOK; write_ext "$case"
run_release --version 1.0.0 --to "oci:$dest" --dry-run
if [ $rc -eq 0 ] && grep -q -F 'linux/amd64 layer 3: build/amd64 -> / (produced by before_build' "$tmp/out" \
   && grep -q -F 'linux/arm64 layer 3: build/arm64 -> / (produced by before_build' "$tmp/out" \
   && [ ! -e "$case/build" ] && cmp -s "$dest/index.json" "$tmp/index.before"; then pass
else fail "$name: exit $rc"; sed 's/^/  /' "$tmp/out" "$tmp/err"; fi
new_case "the same release for real: the hook produces the files"
LAYERS=$HOOK_LAYERS EXTRA=$HOOK; write_ext "$case"
expect_valid --
new_case "--dry-run without a hook: the missing source is a problem naming the folder"
LAYERS=$HOOK_LAYERS; write_ext "$case"
run_release --version 1.0.0 --to "oci:$dest" --dry-run
if [ $rc -eq 3 ] && grep -q -F "'$case/build/amd64' does not exist" "$tmp/err" \
   && grep -q -F "problems found in '$case'; nothing was built" "$tmp/err"; then pass
else fail "$name: exit $rc"; sed 's/^/  /' "$tmp/err"; fi
# run from inside the folder: "in '.' (its name)"
(cd "$case" && "$HOIST" release --version 1.0.0 --to "oci:$dest" --dry-run >"$tmp/out" 2>"$tmp/err" </dev/null)
rc=$?
if [ $rc -eq 3 ] && grep -q -F "problems found in '.' (case$n); nothing was built" "$tmp/err"; then pass
else fail "$name (from inside the folder): exit $rc"; sed 's/^/  /' "$tmp/err"; fi

# ---------------------------------------------------------------- built images: hoist validate
# add_entry LAYOUT TAG attestation-amd64|attestation-arm64|armv7 : adds to the index TAG names an attestation manifest as
# buildx writes one (platform unknown/unknown, vnd.docker.reference.type) or a linux/arm/v7 entry
add_entry() { python3 "$HERE/index_entry.py" "$@"; }
# check_cmd NAME WANT_EXIT CMD... -- PATTERNS : a recipe's exit code and stderr
check_cmd() {
  name=$1 want=$2; shift 2
  cmd=""
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmd="$cmd '$1'"; shift; done
  [ "${1:-}" = "--" ] && shift
  eval "$cmd" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  [ -n "$HOIST_TEST_VERBOSE" ] && { echo "== $name (exit $rc)"; sed 's/^/   /' "$tmp/err"; }
  ok=1
  if [ $rc -ne "$want" ]; then ok=0; fail "$name: exit $rc, want $want"; fi
  while [ $# -gt 1 ]; do has err "$1" "$2"; shift 2; done
  if [ $ok -eq 1 ]; then pass; else sed 's/^/  stderr: /' "$tmp/err" | head -20; fi
}
img=$tmp/images
"$HOIST" copy "oci:$dest:0.9.0" "oci:$img:1.0.0" >/dev/null 2>&1 || fail "copy 0.9.0"
"$HOIST" copy "oci:$dest:0.9.0" "oci:$img:2.0.0" >/dev/null 2>&1 || fail "copy 0.9.0 again"
check_cmd "validate: the image as released" 0 "$HOIST" validate "oci:$img:1.0.0" --
if grep -q '^warning:' "$tmp/err"; then fail "$name: warnings"; else pass; fi
# docker/extensions-sdk#305 (and submissions #140): buildx's attestation manifests make Docker's
# validate fail although Desktop installs the image: a warning that says so.
add_entry "$img" 1.0.0 attestation-amd64
check_cmd "validate: an index with an attestation manifest" 0 "$HOIST" validate "oci:$img:1.0.0" -- \
  -F 'warning: index entry 3 (sha256:' -F 'is an attestation manifest (platform unknown/unknown)' -F 'docker/extensions-sdk#305'
check_cmd "validate --strict: an index with an attestation manifest" 3 "$HOIST" validate "oci:$img:1.0.0" --strict -- \
  -F 'docker/extensions-sdk#305'
"$HOIST" --json validate "oci:$img:1.0.0" >"$tmp/out" 2>/dev/null
if python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["valid"] and len(r["warnings"]) == 1, r' "$tmp/out"; then pass
else fail "validate --json: the warning is not listed"; cat "$tmp/out"; fi
add_entry "$img" 2.0.0 armv7
check_cmd "validate: an index with a linux/arm/v7 entry" 3 "$HOIST" validate "oci:$img:2.0.0" -- \
  -F 'index entry 3 (linux/arm/v7, sha256:' -F 'is not an image for linux/amd64 or linux/arm64'

# ---------------------------------------------------------------- built images: runtime checks
# What Docker only finds by installing the extension, on images another tool changed (a layer
# added on top by add_layer.py): host binaries' modes and the backend's program, decided by the
# topmost layer that holds a path (whiteouts and symlinks followed).
rt=$tmp/rt
rt_copy() { "$HOIST" copy "oci:$1" "oci:$rt:$2" >/dev/null 2>&1 || fail "copy $1 to $rt:$2"; }
add_layer() { python3 "$HERE/add_layer.py" "$rt" "$@" || fail "add_layer.py $*"; }
rt_copy "$dest:0.9.0" 1.0.0
add_layer 1.0.0 file:/linux/tool:0644
check_cmd "validate: a host binary at 0644 in a layer on top" 3 "$HOIST" validate "oci:$rt:1.0.0" -- \
  -F "metadata.json: host.binaries[0].linux[0] (linux/amd64 image): '/linux/tool' is not executable (mode 0644)" \
  -F "(linux/arm64 image): '/linux/tool' is not executable (mode 0644)"
rt_copy "$dest:0.9.0" 1.1.0
add_layer 1.1.0 file:/linux/tool:0644
add_layer 1.1.0 file:/linux/tool:0755
check_cmd "validate: made executable again by the layer above" 0 "$HOIST" validate "oci:$rt:1.1.0" --
rt_copy "$dest:0.9.0" 1.2.0
add_layer 1.2.0 whiteout:/linux/tool
check_cmd "validate: a host binary whited out above" 3 "$HOIST" validate "oci:$rt:1.2.0" -- \
  -F 'metadata.json: host.binaries[0].linux[0] "/linux/tool" is missing from the linux/amd64 and linux/arm64 images'
rt_copy "$dest:0.9.0" 1.3.0
add_layer 1.3.0 whiteout:/linux
check_cmd "validate: the folder of a host binary whited out above" 3 "$HOIST" validate "oci:$rt:1.3.0" -- \
  -F '"/linux/tool" is missing from the linux/amd64 and linux/arm64 images'
rt_copy "$vm_img:1.0.0" 2.0.0
check_cmd "validate: the backend's program is in the image" 0 "$HOIST" validate "oci:$rt:2.0.0" --
rt_copy "$vm_img:1.0.0" 2.1.0
add_layer 2.1.0 'cmd:["/service"]'
check_cmd "validate: the backend's program is not in the image" 3 "$HOIST" validate "oci:$rt:2.1.0" -- \
  -F "the backend (vm.image is this image) cannot start (linux/amd64 image): '/service' does not exist" \
  -F "compose service 'backend' (image \${DESKTOP_PLUGIN_IMAGE}) cannot start (linux/arm64 image)"
rt_copy "$vm_img:1.0.0" 2.2.0
add_layer 2.2.0 link:/service:linux/tool 'cmd:["/service"]'
check_cmd "validate: the backend's program through a symlink" 0 "$HOIST" validate "oci:$rt:2.2.0" --
rt_copy "$vm_img:1.0.0" 2.3.0
add_layer 2.3.0 'cmd:["sh", "-c", "exec /linux/tool"]'
check_cmd "validate: a shell command in an image without a shell" 3 "$HOIST" validate "oci:$rt:2.3.0" -- \
  -F "'sh' is not in the image's PATH"
add_layer 2.3.0 file:/bin/sh:0755
check_cmd "validate: the same once a layer adds /bin/sh" 0 "$HOIST" validate "oci:$rt:2.3.0" --
"$HOIST" --json validate "oci:$rt:2.3.0" >"$tmp/out" 2>/dev/null
if python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l, x = r["layers"], r["read"]
assert 0 < x["count"] <= l["count"] and 0 < x["bytes"] <= l["bytes"], r' "$tmp/out"; then pass
else fail "validate --json: layers and read are not reported"; cat "$tmp/out"; fi

# the labels rules on a built image: an image released as private
new_case "released private, then validated"
LABEL_EDIT='labels.changelog = nil; labels.title = "Team Extension"'; EXTRA='marketplace = false, sdk = "0.3.3",'; write_ext "$case"
expect_valid -- -F 'warning: title "Team Extension" should not include "extension"'
priv=$tmp/ok$n
check_cmd "validate: a private image without --private" 3 "$HOIST" validate "oci:$priv:1.0.0" -- \
  -F '(required) image label "com.docker.extension.changelog" is missing' -F 'title "Team Extension" should not include "extension"'
check_cmd "validate --private: the same image" 0 "$HOIST" validate --private "oci:$priv:1.0.0" -- \
  -F 'warning: (required) image label "com.docker.extension.changelog" is missing' -F 'warning: title "Team Extension"'
check_cmd "validate --private --sdk 0.3.3: api.version >= 0.3.3" 0 "$HOIST" validate --private --sdk 0.3.3 "oci:$priv:1.0.0" --
check_cmd "validate --private --sdk 0.3.2: too old for api.version >= 0.3.3" 3 "$HOIST" validate --private --sdk 0.3.2 "oci:$priv:1.0.0" -- \
  -F '(">= 0.3.3") is incompatible with current SDK version "0.3.2". Consider changing it to ">=0.3.2"'
# a misspelt Docker label on an image (written by another tool): Docker ignores it, so a warning
relabel() {
  python3 - "$@" <<'PY'
import hashlib, json, sys
lay, tag, key, value = sys.argv[1:5]
def path(d): return lay + "/blobs/sha256/" + d.split(":")[1]
def put(doc):
    b = json.dumps(doc).encode()
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    open(path(d), "wb").write(b)
    return d, len(b)
idx = json.load(open(lay + "/index.json"))
ent = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
top = json.load(open(path(ent["digest"])))
for m in top["manifests"]:
    man = json.load(open(path(m["digest"])))
    cfg = json.load(open(path(man["config"]["digest"])))
    cfg["config"]["Labels"][key] = value
    man["config"]["digest"], man["config"]["size"] = put(cfg)
    m["digest"], m["size"] = put(man)
ent["digest"], ent["size"] = put(top)
json.dump(idx, open(lay + "/index.json", "w"))
PY
}
"$HOIST" copy "oci:$dest:0.9.0" "oci:$img:3.0.0" >/dev/null 2>&1 || fail "copy 0.9.0 a third time"
relabel "$img" 3.0.0 com.docker.extension.detailed-descripton "<p>typo</p>"
check_cmd "validate: a misspelt Docker label on an image" 0 "$HOIST" validate "oci:$img:3.0.0" -- \
  -F 'warning: image label "com.docker.extension.detailed-descripton" is not a Docker extension label (did you mean "com.docker.extension.detailed-description"?)'
new_case "a misspelt Docker label in config.labels"
EXTRA='config = { labels = { ["com.docker.extension.publisher-ulr"] = "https://example.com" } },'; write_ext "$case"
expect_invalid -- -F "unknown label \"com.docker.extension.publisher-ulr\" in config.labels (did you mean 'com.docker.extension.publisher-url'?)"

# promote and index take --private (and --strict) too; a refusal tags nothing
check_cmd "promote: a private image without --private" 3 "$HOIST" promote "oci:$priv:1.0.0" "oci:$tmp/prod" -- \
  -F 'com.docker.extension.changelog' -F 'nothing was promoted'
if [ ! -e "$tmp/prod/index.json" ] || ! grep -q 1.0.0 "$tmp/prod/index.json"; then pass; else fail "a refused promote tagged"; fi
check_cmd "promote --private" 0 "$HOIST" promote --private "oci:$priv:1.0.0" "oci:$tmp/prod" -- -F 'warning: (required) image label "com.docker.extension.changelog"'
grep -q 1.0.0 "$tmp/prod/index.json" && pass || fail "promote --private did not tag"
check_cmd "promote --private --strict" 3 "$HOIST" promote --private --strict "oci:$priv:1.0.0" "oci:$tmp/prod2" -- -F 'com.docker.extension.changelog'
# an index source holding attestation manifests (one per platform, as buildx writes them)
add_entry "$img" 1.0.0 attestation-arm64
check_cmd "index: sources with two attestation manifests" 0 "$HOIST" index --to "oci:$tmp/fin:0.9.0" "oci:$img:1.0.0" -- \
  -F 'warning: index entry 3 (sha256:' -F 'warning: index entry 4 (sha256:'
check_cmd "validate: the assembled index keeps them" 0 "$HOIST" validate "oci:$tmp/fin:0.9.0" -- -F 'docker/extensions-sdk#305'
check_cmd "index --strict: refused" 3 "$HOIST" index --strict --to "oci:$tmp/fin2:0.9.0" "oci:$img:1.0.0" -- \
  -F 'docker/extensions-sdk#305' -F 'nothing was tagged'
if [ ! -e "$tmp/fin2/index.json" ] || ! grep -q 0.9.0 "$tmp/fin2/index.json"; then pass; else fail "a refused index tagged"; fi
check_cmd "index: a linux/arm/v7 entry is refused" 3 "$HOIST" index --to "oci:$tmp/fin3:2.0.0" "oci:$img:2.0.0" -- \
  -F '(linux/arm/v7, sha256:'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
