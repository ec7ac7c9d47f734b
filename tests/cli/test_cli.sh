#!/bin/sh
# Command-line contract: exit codes, one-line errors, arg, strict globals, recipe lookup, install.
# usage: test_cli.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$ROOT/tests/check.sh"

# usage and version
run 2 "$HOIST";                      expect err '^usage: hoist'
run 0 "$HOIST" version;              expect out '^hoist [0-9]+\.[0-9]+\.[0-9]+$'
run 0 "$HOIST" --version;            expect out '^hoist [0-9]+\.[0-9]+\.[0-9]+$'
run 0 "$HOIST" --json version;       expect out '^\{"version": "[0-9]+\.[0-9]+\.[0-9]+"\}$'
run 0 "$HOIST" help;                 expect out 'exit codes'; expect out 'semver'

# unknown commands and flags: exit 2, one line naming the culprit
run 2 "$HOIST" frobnicate;           expect err "^hoist: unknown command or recipe 'frobnicate'"; lines err 1
run 2 "$HOIST" --frob;               expect err "^hoist: unknown flag '--frob'"; lines err 1
run 2 "$HOIST" help frobnicate;      expect err "unknown recipe 'frobnicate'"
run 2 "$HOIST" run;                  expect err 'usage: hoist run'
run 2 "$HOIST" ../etc;               expect err "unknown command or recipe"

# run and eval: arg, varargs, errors
cat >"$tmp/args.lua" <<'LUA'
local a, b = ...
print(arg[0]:match("args%.lua$") ~= nil, #arg, arg[1], arg[2], a, b)
LUA
run 0 "$HOIST" run "$tmp/args.lua" one two;   expect out '^true	2	one	two	one	two$'
run 0 "$HOIST" eval 'print(select("#", ...), ...)' x y; expect out '^2	x	y$'
run 1 "$HOIST" run "$tmp/missing.lua";        expect err '^hoist: cannot open .*missing\.lua'; lines err 1
run 1 "$HOIST" eval 'error("boom")';          expect err '^hoist: \(eval\):1: boom$'; lines err 1
run 1 "$HOIST" --debug eval 'error("boom")';  expect err 'stack traceback'
run 1 "$HOIST" eval 'local x = ';             expect err '^hoist: \(eval\):1:'
run 1 "$HOIST" eval 'error(setmetatable({}, {__tostring = function() return "custom" end}))'
expect err '^hoist: custom$'

# strict globals
run 1 "$HOIST" eval 'x = 1';                  expect err "assignment to undeclared global 'x'"
run 1 "$HOIST" eval 'print(undefined_name)';  expect err "undeclared global 'undefined_name'"
run 0 "$HOIST" eval 'local s = require("hoist.semver"); assert(rawget(_G, "semver") == nil)'

# exit codes chosen by scripts through hoist.cli
run 3 "$HOIST" eval 'require("hoist.cli").fail(3, "problems found")'; expect err '^hoist: problems found$'
run 2 "$HOIST" eval 'require("hoist.cli").usage_error("bad flag")';   expect err '^hoist: bad flag$'
run 1 "$HOIST" eval 'require("hoist.cli").fail(1, "registry down")'
run 0 "$HOIST" eval 'os.exit(0)'

# recipes: listing, help, HOIST_PATH and ./.hoist lookup (team recipes and modules)
run 0 "$HOIST" recipes;                       expect out '^  semver +Semantic versions'
run 0 "$HOIST" help semver;                   expect out '^usage: hoist semver'
mkdir -p "$tmp/team" "$tmp/proj/.hoist"
printf -- '-- A team step.\nlocal m = require("teamlib")\nprint("team", m.answer, ...)\n' >"$tmp/team/teamstep.lua"
printf 'return { answer = 42 }\n' >"$tmp/team/teamlib.lua"
run 0 env HOIST_PATH="$tmp/team/?.lua" "$HOIST" teamstep a;  expect out '^team	42	a$'
run 0 env HOIST_PATH="$tmp/team/?.lua" "$HOIST" help teamstep; expect out 'A team step'
run 0 env HOIST_PATH="$tmp/team/?.lua" "$HOIST" recipes;  expect out '^  teamstep +A team step\.$'; expect out '^  semver '
printf 'print("local recipe", (require("locallib")))\n' >"$tmp/proj/.hoist/localstep.lua"
printf 'return "found"\n' >"$tmp/proj/.hoist/locallib.lua"
run 0 sh -c "cd '$tmp/proj' && '$HOIST' localstep";   expect out '^local recipe	found$'

# the semver recipe: answers by exit code
run 0 "$HOIST" semver compare 1.2.3 1.10.0;           expect out '^-1$'
run 1 "$HOIST" semver compare 1.10.0 '<' 1.2.3;       expect out '^false$'
run 0 "$HOIST" semver gt 1.10.0 1.2.3;                expect out '^true$'
run 0 "$HOIST" semver satisfies 1.2.4 '^1.2.3';       expect out '^true$'
run 1 "$HOIST" semver satisfies 1.2.4-rc.1 '^1.2.3';  expect out '^false$'
run 0 "$HOIST" semver satisfies -p 1.2.4-rc.1 '^1.2.3'
run 0 "$HOIST" semver inc 1.2.3 prerelease beta;      expect out '^1\.2\.4-beta\.0$'
run 0 "$HOIST" semver inc 1.2.3-beta.0 release;       expect out '^1\.2\.3$'
run 2 "$HOIST" semver inc 1.2.3 sideways;             expect err "cannot increment '1.2.3' by 'sideways'"
run 2 "$HOIST" semver compare 1.2 1.2.3;              expect err "^hoist: invalid version '1.2'$"
run 2 "$HOIST" semver satisfies 1.2.3 '>=x.1';        expect err "invalid range '>=x.1'"
run 2 "$HOIST" semver frob;                           expect err "unknown command 'frob'"
run 2 "$HOIST" semver sort --frob;                    expect err "unknown option '--frob'"
run 0 "$HOIST" semver valid v1.2.3;                   expect out '^1\.2\.3$'
run 1 "$HOIST" semver valid latest
run 0 "$HOIST" semver range '~> 1.2';                 expect out '^>=1\.2\.0 <1\.3\.0-0$'
run 0 "$HOIST" semver diff 1.2.3 1.3.0;               expect out '^minor$'
run 0 sh -c "printf '1.10.0\n1.2.0\n\n0.9.0\n' | '$HOIST' semver sort"; expect out '^0\.9\.0$'
[ "$(sed -n 3p "$tmp/out")" = "1.10.0" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: sort order"; }
run 0 sh -c "printf '1.10.0\n1.2.0\n' | '$HOIST' --json semver sort -r"; expect out '^\["1\.10\.0","1\.2\.0"\]$'
run 2 sh -c "printf '1.0.0\nlatest\n' | '$HOIST' semver sort";  expect err "invalid version 'latest' on line 2"
run 0 sh -c "'$HOIST' semver latest < '$ROOT/examples/tags.txt'";  expect out '^1\.10\.0$'
run 0 sh -c "'$HOIST' semver latest '^0' < '$ROOT/examples/tags.txt'";  expect out '^0\.10\.1$'
run 1 sh -c "echo latest | '$HOIST' semver latest"

# a hook that raises stops the release before anything is tagged
cp -r "$ROOT/examples/hello-extension" "$tmp/hooked"
sed -i 's/^return {/return {\n  hooks = { before_publish = function() error("team policy: frozen", 0) end },/' "$tmp/hooked/extension.lua"
run 1 "$HOIST" release "$tmp/hooked" --version 2.0.0 --to "oci:$tmp/hooked-out"
expect err '^hoist: hook before_publish stopped the release: team policy: frozen$'
if grep -q ref.name "$tmp/hooked-out/index.json" 2>/dev/null; then
  failed=$((failed + 1)); echo "FAIL: a tag was written although the hook stopped the release"
else passed=$((passed + 1)); fi

# a full disk on stdout is an error, not a silent success
if [ -w /dev/full ]; then
  run 1 sh -c "'$HOIST' version >/dev/full"; expect err 'write error'
fi

# after cmake --install, hoist finds its lua/ and scripts/ under PREFIX/share/hoist
builddir=$(dirname "$HOIST")
if [ -f "$builddir/cmake_install.cmake" ] && command -v cmake >/dev/null; then
  run 0 cmake --install "$builddir" --prefix "$tmp/prefix"
  run 0 "$tmp/prefix/bin/hoist" recipes;        expect out 'semver'
  run 0 "$tmp/prefix/bin/hoist" eval 'print(require("hoist.host").share)'; expect out "^$tmp/prefix/bin/../share/hoist$"
  run 0 "$tmp/prefix/bin/hoist" semver satisfies 2.0.0 '>=1'
fi

# failures in one vocabulary: a kind, its exit code; --json prints an object on failure too,
# HOIST_LOG_FORMAT=json makes the error line JSON
run 3 "$HOIST" eval 'require("hoist.cli").fail("EINVAL", "bad input", { problems = { "p1", "p2" } })'
expect err '^hoist: bad input$'
run 3 "$HOIST" --json eval 'require("hoist.cli").fail("EINVAL", "bad input", { problems = { "p1" }, result = { x = 1 } })'
py out 'assert r == {"error": "bad input", "exit": 3, "kind": "EINVAL", "problems": ["p1"], "warnings": [], "x": 1}, r'
lines out 1
run 2 "$HOIST" eval 'require("hoist.cli").fail("EUSAGE", "wrong")'
run 1 "$HOIST" eval 'require("hoist.cli").fail("ECONFLICT", "taken")'
run 1 "$HOIST" --json eval 'error("a plain error")'
py out 'assert r["exit"] == 1 and "a plain error" in r["error"] and r["problems"] == [], r'
HOIST_LOG_FORMAT=json run 1 "$HOIST" eval 'require("hoist.cli").fail("EREMOTE", "registry down")'
py err 'assert r == {"level": "error", "message": "registry down", "exit": 1}, r'
run 1 "$HOIST" eval 'require("hoist.cli").fail("ENOSUCHKIND", "x")'
expect err "unknown kind 'ENOSUCHKIND'"
finish
