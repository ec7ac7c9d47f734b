#!/bin/sh
# Team steps shared as LuaRocks packages: Debian's luarocks installs examples/rocks/hoist-changelog
# into an extension's .hoist/rocks tree (offline: `luarocks make` from the rock's own folder), and
# hoist finds it with require, from extension.lua's hooks and from a team recipe in ./.hoist/.
# usage: test_rocks.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v luarocks >/dev/null 2>&1 || { echo "skipped: luarocks is missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache" HOME="$tmp/home"
mkdir -p "$HOME"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }

EXT=$tmp/ext
cp -r "$ROOT/examples/hello-extension" "$EXT"
# the hook, as a team writes it: the rock's module, required by name
sed -i 's|^}$|  hooks = { before_build = require("hoist_team.changelog").before_build },\n}|' "$EXT/extension.lua"
grep -q 'require("hoist_team.changelog")' "$EXT/extension.lua" || { echo "FAIL: the hook was not added"; exit 1; }

# without the rock: require fails, naming the module
"$HOIST" release "$EXT" --version 1.0.0 --to "oci:$tmp/out" >"$tmp/out0" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q "module 'hoist_team.changelog' not found" "$tmp/out0" && ok || { ko "no rock: exit $rc"; cat "$tmp/out0"; }

# luarocks installs it into EXT/.hoist/rocks (a copy of the rock's folder: make works in place)
cp -r "$ROOT/examples/rocks/hoist-changelog" "$tmp/rock"
(cd "$tmp/rock" && luarocks --tree "$EXT/.hoist/rocks" --lua-version 5.4 make hoist-changelog-1.0.0-1.rockspec) >"$tmp/lr" 2>&1 \
  && ok || { ko "luarocks make"; cat "$tmp/lr"; }
[ -f "$EXT/.hoist/rocks/share/lua/5.4/hoist_team/changelog.lua" ] && ok || ko "the rock is not where luarocks path says"
luarocks --tree "$EXT/.hoist/rocks" --lua-version 5.4 list 2>/dev/null | grep -q "hoist-changelog" && ok || ko "luarocks list"

# with the rock: the step runs and refuses a version without a changelog entry
"$HOIST" release "$EXT" --version 1.0.0 --to "oci:$tmp/out" >"$tmp/out1" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "hook before_build stopped the release: CHANGELOG.md has no '## 1.0.0' entry" "$tmp/out1" \
  && ok || { ko "the rock's step did not run (exit $rc)"; cat "$tmp/out1"; }
[ -e "$tmp/out/index.json" ] && ko "a refused release wrote the layout" || ok
printf '## 1.0.0\nFirst release, <built> by the team rock.\n\n## 0.9.0\nOlder.\n' >"$EXT/CHANGELOG.md"
"$HOIST" release "$EXT" --version 1.0.0 --to "oci:$tmp/out" >"$tmp/out2" 2>&1 && ok || { ko "release with the rock"; cat "$tmp/out2"; }
"$HOIST" -q inspect --config "oci:$tmp/out:1.0.0" | grep -q '"com.docker.extension.changelog": "<p>First release, &lt;built&gt; by the team rock.</p>"' \
  && ok || ko "the changelog label the rock sets"

# a team recipe in ./.hoist/ finds the rock of ./.hoist/rocks
mkdir -p "$EXT/.hoist"
cat >"$EXT/.hoist/changelog-entry.lua" <<'LUA'
-- Print the changelog entry of a version (a team recipe using the team's rock).
local cli = require("hoist.cli")   -- recipes load hoist.cli, which puts ./.hoist/rocks on the path
local _, args = cli.parse(arg, { usage = "usage: hoist changelog-entry VERSION" })
local changelog = require("hoist_team.changelog")
local text = require("hoist.fs").read("CHANGELOG.md") or ""
print(changelog.VERSION .. ": " .. tostring(changelog.entry(text, args[1])))
LUA
(cd "$EXT" && "$HOIST" changelog-entry 0.9.0) >"$tmp/out3" 2>&1
grep -q "^1.0.0: Older.$" "$tmp/out3" && ok || { ko "a recipe using the rock"; cat "$tmp/out3"; }
# `hoist run` and `eval` find it without hoist.cli (the runtime puts ./.hoist/rocks on the paths)
(cd "$EXT" && "$HOIST" eval 'print(require("hoist_team.changelog").VERSION)') >"$tmp/out5" 2>&1 \
  && grep -q '^1.0.0$' "$tmp/out5" && ok || { ko "hoist eval does not find the rock"; cat "$tmp/out5"; }
(cd "$EXT" && "$HOIST" eval 'print((package.cpath:find("./.hoist/rocks/lib/lua/5.4/?.so", 1, true)))') >"$tmp/out6" 2>&1 \
  && grep -q '^1$' "$tmp/out6" && ok || { ko "package.cpath lacks the rock tree"; cat "$tmp/out6"; }
# hoist's own modules cannot be shadowed by a rock
mkdir -p "$EXT/.hoist/rocks/share/lua/5.4/hoist"
echo 'return { shadowed = true }' >"$EXT/.hoist/rocks/share/lua/5.4/hoist/semver.lua"
(cd "$EXT" && "$HOIST" eval 'require("hoist.cli"); assert(not require("hoist.semver").shadowed, "shadowed")') >"$tmp/out4" 2>&1 \
  && ok || { ko "a rock shadowed hoist.semver"; cat "$tmp/out4"; }
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
