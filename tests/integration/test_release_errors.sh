#!/bin/sh
# Every class of bad input to `hoist release` (DESIGN.md section 2, steps 1-3; issue 3): each case
# starts from a valid extension, breaks one thing, and asserts
#   - exit 3 (validation found problems),
#   - stderr names the culprit (the missing file's path, the label key, the bad key, the version...),
#   - nothing was tagged or built: the destination layout, which already holds release 0.9.0 of
#     the valid extension, keeps the same index.json byte for byte and the same blobs.
# A non-semver --version is a validation problem too (exit 3, not the usage code 2): step 2 of the
# release recipe lists "the tag" among the things validated, and issue 3 asks for exit 3.
# Then: releasing a version that already exists exits 1 and says so, unless --force.
# usage: test_release_errors.sh PATH/TO/hoist   (HOIST_TEST_VERBOSE=1 prints each case's stderr)
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
umask 022
export LC_ALL=C.UTF-8
unset SOURCE_DATE_EPOCH
tmp=$(mktemp -d)
if [ -n "$HOIST_TEST_KEEP" ]; then echo "keeping $tmp"; else
  trap 'rm -rf "$tmp"' EXIT
fi
export XDG_CACHE_HOME="$tmp/cache"
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# ---------------------------------------------------------------- the valid extension
# write_ext DIR : extension.lua from $PLATFORMS, $LAYERS and $LABEL_EDIT (Lua statements run on
# the table `labels` before it is returned), all defaulting to a valid description.
DEFAULT_PLATFORMS='{ "linux/amd64", "linux/arm64" }'
# shellcheck disable=SC2016  # ${arch} is for hoist, not the shell
DEFAULT_LAYERS='{
    { from = "metadata.json", to = "/metadata.json" },
    { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" } },
    { from = "host/${arch}", to = "/" },
  }'
write_ext() {
  platforms=${PLATFORMS:-$DEFAULT_PLATFORMS}
  layers=${LAYERS:-$DEFAULT_LAYERS}
  cat >"$1/extension.lua" <<LUA
local labels = {
  title = "Errors", description = "Every bad input.", vendor = "hoist tests",
  api_version = ">= 0.3.3", icon = "https://example.com/errors/icon.svg",
  screenshots = { { alt = "one", url = "https://example.com/errors/1.png" },
                  { alt = "two", url = "https://example.com/errors/2.png" } },
  detailed_description = "<p>Errors.</p>", publisher_url = "https://example.com/errors",
  additional_urls = { { title = "Docs", url = "https://example.com/errors/docs" } },
  changelog = "<p>Changes.</p>", categories = { "utility-tools" },
  ["org.opencontainers.image.source"] = "https://example.com/errors.git",
}
${LABEL_EDIT:-}
return {
  name = "hoist-tests/errors",
  platforms = $platforms,
  labels = labels,
  layers = $layers,
}
LUA
}
META_OK='{"icon": "docker.svg",
 "ui": {"dashboard-tab": {"title": "Errors", "root": "/ui", "src": "index.html"}},
 "host": {"binaries": [{"darwin": [{"path": "/darwin/tool"}],
                        "windows": [{"path": "/windows/tool.exe"}],
                        "linux": [{"path": "/linux/tool"}]}]}}'
base=$tmp/base
mkdir -p "$base/ui"
printf '%s\n' "$META_OK" >"$base/metadata.json"
printf '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>\n' >"$base/docker.svg"
printf '<!DOCTYPE html><title>errors</title>\n' >"$base/ui/index.html"
for arch in amd64 arm64; do
  mkdir -p "$base/host/$arch/darwin" "$base/host/$arch/windows" "$base/host/$arch/linux"
  for p in darwin/tool windows/tool.exe linux/tool; do
    printf '#!/bin/sh\necho "%s %s"\n' "$p" "$arch" >"$base/host/$arch/$p"; chmod 0755 "$base/host/$arch/$p"
  done
done
write_ext "$base"
# Things outside the extension folder that escaping `from`s point at (they exist, so the only
# problem is where they are).
mkdir -p "$tmp/outside-dir"; printf 'secret\n' >"$tmp/outside.txt"; printf 'secret\n' >"$tmp/outside-dir/file.txt"

# The destination every failing case writes to: it already holds 0.9.0.
dest=$tmp/dest
if "$HOIST" release "$base" --version 0.9.0 --to "oci:$dest" >"$tmp/out" 2>"$tmp/err"; then pass
else
  fail "the valid extension does not release (exit $?): the cases below would prove nothing"
  sed 's/^/  stderr: /' "$tmp/err"; echo "$passed passed, $failed failed"; exit 1
fi
cp "$dest/index.json" "$tmp/index.before"
(cd "$dest" && find blobs -type f | sort) >"$tmp/blobs.before"
cp -a "$dest" "$tmp/dest.saved"

# ---------------------------------------------------------------- the check
# new_case NAME : a fresh copy of the valid extension in $case, with the defaults restored
n=0
new_case() {
  name=$1; n=$((n + 1)); case=$tmp/case$n
  cp -a "$base" "$case"
  PLATFORMS='' LAYERS='' LABEL_EDIT=''
}
# expect_invalid VERSION [EXTRA_ARGS...] then the culprits as -e REGEX / -F STRING pairs after "--":
#   expect_invalid 1.0.0 -- -F "/darwin/tool" -F arm64
expect_invalid() {
  version=$1; shift
  extra=""
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do extra="$extra $1"; shift; done
  [ "${1:-}" = "--" ] && shift
  # shellcheck disable=SC2086
  "$HOIST" release "$case" --version "$version" --to "oci:$dest" $extra >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  [ -n "$HOIST_TEST_VERBOSE" ] && { echo "== $name (exit $rc)"; sed 's/^/   /' "$tmp/err"; }
  ok=1
  if [ $rc -ne 3 ]; then ok=0; fail "$name: exit $rc, want 3"; fi
  while [ $# -gt 1 ]; do
    if grep -q "$1" -- "$2" "$tmp/err"; then :; else ok=0; fail "$name: stderr does not name '$2'"; fi
    shift 2
  done
  if ! cmp -s "$dest/index.json" "$tmp/index.before"; then
    ok=0; fail "$name: the destination's index.json changed (something was tagged)"
  fi
  (cd "$dest" && find blobs -type f | sort) >"$tmp/blobs.after"
  if ! cmp -s "$tmp/blobs.before" "$tmp/blobs.after"; then
    ok=0; fail "$name: blobs were written to the destination (nothing may be built)"
  fi
  if [ $ok -eq 1 ]; then pass; else
    sed 's/^/  stderr: /' "$tmp/err" | head -20
    rm -rf "$dest"; cp -a "$tmp/dest.saved" "$dest"     # keep the next cases independent
  fi
}
meta() { printf '%s\n' "$1" >"$case/metadata.json"; }

# ---------------------------------------------------------------- inputs that are not regular files
# found by validation (and --dry-run), exit 3, before anything is built; never read or waited on
expect_invalid_and_dry() {
  "$HOIST" release "$case" --version 1.0.0 --to "oci:$dest" --dry-run >"$tmp/out" 2>"$tmp/dry.err" </dev/null
  drc=$?
  if [ $drc -eq 3 ]; then pass; else fail "$name (--dry-run): exit $drc, want 3"; sed 's/^/  stderr: /' "$tmp/dry.err"; fi
  expect_invalid 1.0.0 -- "$@"
}
new_case "metadata.json is a folder"
rm "$case/metadata.json"; mkdir "$case/metadata.json"
expect_invalid_and_dry -F "metadata.json: cannot read" -F "it is a folder"

new_case "metadata.json is a FIFO"
rm "$case/metadata.json"; mkfifo "$case/metadata.json"
expect_invalid_and_dry -F "metadata.json: cannot read" -F FIFO

new_case "metadata.json is over the size limit"
python3 -c 'import sys; sys.stdout.write("{\"icon\": \"docker.svg\", \"x\": \"" + "a" * (1 << 20) + "\"}")' >"$case/metadata.json"
expect_invalid_and_dry -F "metadata.json: cannot read" -F "larger than 1 MiB"

new_case "a FIFO inside a layer's folder"
mkfifo "$case/ui/pipe"
expect_invalid_and_dry -F "extension.lua: layer 2 (linux/amd64): '" -F "ui/pipe' is a FIFO: a layer holds files, folders and symlinks only"

# a file name that is not UTF-8 (and holds a newline): found by validation and --dry-run, not at
# build time, shown escaped on one line (the line that names it must not be split)
new_case "a file name that is not UTF-8"
: >"$case/ui/$(printf 'bad\377name\nx')"
expect_invalid_and_dry -F "extension.lua: layer 2 (linux/amd64): '" -F "ui/bad\xffname\x0ax': the file name is not UTF-8 (rename it)"
if grep -q "^x'" "$tmp/err"; then fail "$name: the name was printed on two lines"; else pass; fi
new_case "a file name in UTF-8 (with an accent and a space) is fine"
: >"$case/ui/$(printf 'caf\303\251 ok')"
expect_valid_case() {
  "$HOIST" release "$case" --version 1.0.0 --to "oci:$tmp/utf8ok" >"$tmp/out" 2>"$tmp/err" </dev/null
  if [ $? -eq 0 ]; then pass; else fail "$name: exit $?"; sed 's/^/  stderr: /' "$tmp/err"; fi
}
expect_valid_case

new_case "a 'to' that leaves the image root"
LAYERS='{ { from = "metadata.json", to = "/metadata.json" },
    { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/../ui" } },
    { from = "host/${arch}", to = "/" } }'
write_ext "$case"
expect_invalid_and_dry -F '"/../ui"' -F "leaves the image's root"

new_case "extension.lua is a FIFO"
rm "$case/extension.lua"; mkfifo "$case/extension.lua"
expect_invalid_and_dry -F "extension.lua" -F FIFO

# ---------------------------------------------------------------- metadata.json: files it names
new_case "icon names a file no layer provides"
meta "$(printf '%s' "$META_OK" | sed 's/"icon": "docker.svg"/"icon": "missing-icon.svg"/')"
expect_invalid 1.0.0 -- -F missing-icon.svg

new_case "icon present in the amd64 tree only"
meta "$(printf '%s' "$META_OK" | sed 's/"icon": "docker.svg"/"icon": "arch-icon.svg"/')"
cp "$case/docker.svg" "$case/host/amd64/arch-icon.svg"
expect_invalid 1.0.0 -- -F arch-icon.svg -F linux/arm64

new_case "ui src missing"
meta "$(printf '%s' "$META_OK" | sed 's/"src": "index.html"/"src": "main.html"/')"
expect_invalid 1.0.0 -- -F main.html

new_case "ui root missing"
meta "$(printf '%s' "$META_OK" | sed 's,"root": "/ui","root": "/app",')"
expect_invalid 1.0.0 -- -F /app/index.html

new_case "ui src missing in the arm64 tree only (ui given per arch)"
mkdir -p "$case/host/amd64/web"; cp "$case/ui/index.html" "$case/host/amd64/web/"; mkdir -p "$case/host/arm64/web"
meta "$(printf '%s' "$META_OK" | sed 's,"root": "/ui","root": "/web",')"
expect_invalid 1.0.0 -- -F /web/index.html -F linux/arm64

# A host binary some platforms lack is a warning (Docker's own multi-arch docs ship the Windows
# .exe in the amd64 image only): a problem with --strict; missing from every platform, a problem.
for spec in darwin/tool:arm64:amd64 windows/tool.exe:amd64:arm64 linux/tool:arm64:amd64; do
  path=${spec%%:*}; rest=${spec#*:}; gone=${rest%%:*}; kept=${rest#*:}
  new_case "host binary /$path missing in the $gone tree only (--strict)"
  rm "$case/host/$gone/$path"
  expect_invalid 1.0.0 --strict -- -F "/$path" -F "linux/$gone"
  # the platform that has it is not blamed
  if grep -F "/$path" "$tmp/err" | grep -q -F "linux/$kept"; then
    fail "$name: the message blames linux/$kept too"; sed 's/^/  stderr: /' "$tmp/err"; else pass; fi
done

new_case "host binary missing in every tree"
rm "$case/host/amd64/linux/tool" "$case/host/arm64/linux/tool"
expect_invalid 1.0.0 -- -F '"/linux/tool" is missing from the linux/amd64 and linux/arm64 images'

new_case "vm.composefile names a missing file"
meta '{"icon": "docker.svg", "vm": {"composefile": "docker-compose.yaml"},
 "ui": {"dashboard-tab": {"title": "Errors", "root": "/ui", "src": "index.html"}}}'
expect_invalid 1.0.0 -- -F docker-compose.yaml

# ---------------------------------------------------------------- metadata.json: shape
new_case "unknown root key name"
meta "$(printf '%s' "$META_OK" | sed 's/^{"icon"/{"name": "errors", "icon"/')"
expect_invalid 1.0.0 -- -E "metadata\.json.*[^a-z_.-]name([^a-z_.-]|$)"

new_case "unknown root key provider"
meta "$(printf '%s' "$META_OK" | sed 's/^{"icon"/{"provider": "acme", "icon"/')"
expect_invalid 1.0.0 -- -F provider

new_case "vm with neither image nor composefile"
meta '{"icon": "docker.svg", "vm": {"exposes": {"socket": "backend.sock"}},
 "ui": {"dashboard-tab": {"title": "Errors", "root": "/ui", "src": "index.html"}}}'
expect_invalid 1.0.0 -- -E 'vm[^a-z].*(image|composefile)'

new_case "metadata.json is not valid JSON"
meta '{"icon": "docker.svg", "ui": {'
expect_invalid 1.0.0 -- -F metadata.json

new_case "metadata.json missing"
rm "$case/metadata.json"
expect_invalid 1.0.0 -- -F metadata.json

# ---------------------------------------------------------------- labels
key_of() {
  case $1 in
    title|description|vendor) echo "org.opencontainers.image.$1" ;;
    api_version) echo "com.docker.desktop.extension.api.version" ;;
    icon) echo "com.docker.desktop.extension.icon" ;;
    *) echo "com.docker.extension.$1" | tr _ - ;;
  esac
}
for field in title description vendor api_version icon screenshots detailed_description publisher_url changelog categories; do
  key=$(key_of "$field")
  new_case "required label $key missing"
  LABEL_EDIT="labels.$field = nil"; write_ext "$case"
  expect_invalid 1.0.0 -- -F "$key"
  new_case "required label $key empty"
  LABEL_EDIT="labels.$field = \"\""; write_ext "$case"
  expect_invalid 1.0.0 -- -F "$key"
done

new_case "screenshots label is not JSON"
LABEL_EDIT='labels.screenshots = nil; labels["com.docker.extension.screenshots"] = "not json"'; write_ext "$case"
expect_invalid 1.0.0 -- -F com.docker.extension.screenshots

new_case "screenshots entry without url"
LABEL_EDIT='labels.screenshots = { { alt = "one" } }'; write_ext "$case"
expect_invalid 1.0.0 -- -F com.docker.extension.screenshots

new_case "additional-urls is not an array"
LABEL_EDIT='labels.additional_urls = nil; labels["com.docker.extension.additional-urls"] = "{\"title\": \"x\"}"'; write_ext "$case"
expect_invalid 1.0.0 -- -F com.docker.extension.additional-urls

new_case "unknown category (--strict: Docker itself only warns at most)"
LABEL_EDIT='labels.categories = { "utility-tools", "games" }'; write_ext "$case"
expect_invalid 1.0.0 --strict -- -F com.docker.extension.categories -F games

new_case "api.version latest"
LABEL_EDIT='labels.api_version = "latest"'; write_ext "$case"
expect_invalid 1.0.0 -- -F com.docker.desktop.extension.api.version -F latest

new_case "several problems are all listed"
LABEL_EDIT='labels.title = nil; labels.categories = { "games" }'; write_ext "$case"
rm "$case/host/arm64/linux/tool"
expect_invalid 1.0.0 -- -F org.opencontainers.image.title -F games -F /linux/tool

# ---------------------------------------------------------------- version, platforms
for v in 1.2 latest 1.2.3.4 01.2.3 1.0.0-; do
  new_case "--version $v is not semver"
  expect_invalid "$v" -- -F "$v"
done

new_case "a single platform in extension.lua"
PLATFORMS='{ "linux/amd64" }'; write_ext "$case"
expect_invalid 1.0.0 -- -F linux/arm64

new_case "a single platform by --platform"
expect_invalid 1.0.0 --platform linux/amd64 -- -F linux/arm64

# ---------------------------------------------------------------- from escaping the folder
# shellcheck disable=SC2016
ESC_BASE='{ from = "metadata.json", to = "/metadata.json" },
    { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" } },
    { from = "host/${arch}", to = "/" },'

new_case "from escapes through .."
LAYERS="{ $ESC_BASE { from = \"../outside.txt\", to = \"/outside.txt\" } }"; write_ext "$case"
expect_invalid 1.0.0 -- -F ../outside.txt

new_case "from escapes through .. in the middle"
LAYERS="{ $ESC_BASE { from = \"ui/../../outside-dir\", to = \"/o\" } }"; write_ext "$case"
expect_invalid 1.0.0 -- -F outside-dir

new_case "from is an absolute path outside"
LAYERS="{ $ESC_BASE { from = \"$tmp/outside.txt\", to = \"/outside.txt\" } }"; write_ext "$case"
expect_invalid 1.0.0 -- -F outside.txt

new_case "from is a symlink pointing outside (relative target)"
ln -s ../outside.txt "$case/escape"
LAYERS="{ $ESC_BASE { from = \"escape\", to = \"/escape\" } }"; write_ext "$case"
expect_invalid 1.0.0 -- -F escape

new_case "from is a symlink pointing outside (absolute target)"
ln -s "$tmp/outside-dir" "$case/escape-dir"
LAYERS="{ $ESC_BASE { from = \"escape-dir\", to = \"/e\" } }"; write_ext "$case"
expect_invalid 1.0.0 -- -F escape-dir

new_case "from goes through a symlinked folder pointing outside"
ln -s ../outside-dir "$case/linkdir"
LAYERS="{ $ESC_BASE { from = \"linkdir/file.txt\", to = \"/file.txt\" } }"; write_ext "$case"
expect_invalid 1.0.0 -- -F linkdir

new_case "from is a per-arch symlink pointing outside in one platform only"
rm -rf "$case/host/arm64"; ln -s "$tmp/outside-dir" "$case/host/arm64"
expect_invalid 1.0.0 -- -F host/arm64

# ---------------------------------------------------------------- the same version twice
t=$tmp/twice
run_release() { "$HOIST" release "$base" --to "oci:$t" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; }
if run_release --version 1.0.0; then pass; else fail "first release of 1.0.0 (exit $?)"; sed 's/^/  stderr: /' "$tmp/err"; fi
cp "$t/index.json" "$tmp/twice.before" 2>/dev/null
# the same release again: the tag already points at exactly this content, so it only finishes
# its tags (a release killed between tag writes is simply run again)
run_release --version 1.0.0 --latest; rc=$?
if [ $rc -eq 0 ]; then pass; else fail "releasing the same 1.0.0 again: exit $rc, want 0"; sed 's/^/  stderr: /' "$tmp/err"; fi
if grep -q '"latest"' "$t/index.json"; then pass; else fail "the rerun did not add latest"; fi
cp "$t/index.json" "$tmp/twice.before"
# other content under the same version: refused, nothing changed
echo '<p>other</p>' >>"$base/ui/index.html"
run_release --version 1.0.0; rc=$?
if [ $rc -eq 1 ]; then pass; else fail "releasing other content as 1.0.0: exit $rc, want 1"; sed 's/^/  stderr: /' "$tmp/err"; fi
if grep -q -F "tag '1.0.0' already exists" "$tmp/err" && grep -q -F 'use --force' "$tmp/err"; then pass
else fail "releasing other content as 1.0.0: stderr does not say the tag 1.0.0 exists"; sed 's/^/  stderr: /' "$tmp/err"; fi
if cmp -s "$t/index.json" "$tmp/twice.before"; then pass; else fail "a refused release changed index.json"; fi
run_release --version v1.0.0; rc=$?   # the leading v is dropped: the same tag
if [ $rc -eq 1 ]; then pass; else fail "releasing v1.0.0 over 1.0.0: exit $rc, want 1"; fi
# --force replaces it: a changed extension gets the tag, and the tag stays unique
echo '<p>changed</p>' >>"$base/ui/index.html"
if run_release --version 1.0.0 --force; then pass; else fail "--force (exit $?)"; sed 's/^/  stderr: /' "$tmp/err"; fi
if cmp -s "$t/index.json" "$tmp/twice.before"; then fail "--force did not move the tag"; else pass; fi
c=$(grep -c '"org.opencontainers.image.ref.name": *"1.0.0"' "$t/index.json")
if [ "$c" -eq 1 ]; then pass; else
  c2=$(tr -d ' \n' <"$t/index.json" | grep -o '"org.opencontainers.image.ref.name":"1.0.0"' | wc -l)
  if [ "$c2" -eq 1 ]; then pass; else fail "after --force index.json tags 1.0.0 $c2 times"; cat "$t/index.json"; fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
