#!/usr/bin/env bash
# Every example releases and validates: to an OCI layout and to the real registry (read back by
# skopeo), the staged multi-registry script (and its no-tag-anywhere failure), and the changelog
# and policy team steps in a real git repository.
# usage: test_examples.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/a" >/dev/null 2>&1; registry_stop "$tmp/b" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
. "$ROOT/tests/check.sh"

registry_start none "$tmp/a" >/dev/null || exit 1
registry_start none "$tmp/b" >/dev/null || exit 1
A=$(sed 's|http://||' "$tmp/a/url")
B=$(sed 's|http://||' "$tmp/b/url")

# each example: a copy (the hooks write build/ inside it), to a layout and to the registry
for ex in hello-extension backend-extension host-binaries; do
  cp -r "$ROOT/examples/$ex" "$tmp/$ex"
  run 0 "$HOIST" release "$tmp/$ex" --version 1.0.0 --to "oci:$tmp/out-$ex"
  run 0 "$HOIST" validate "oci:$tmp/out-$ex:1.0.0"
  run 0 "$HOIST" --json release "$tmp/$ex" --version 1.0.0 --to "docker://$A/examples/$ex" --latest
  py out 'assert r["tags"] == ["1.0.0", "latest"], r'
  run 0 "$HOIST" validate "docker://$A/examples/$ex:1.0.0"
  skopeo inspect --raw --tls-verify=false "docker://$A/examples/$ex:1.0.0" >"$tmp/raw" 2>&1
  py raw 'assert sorted(m["platform"]["architecture"] for m in r["manifests"]) == ["amd64", "arm64"], r'
done
# the compiled binaries are real programs for their architecture (when the compilers are here)
if command -v aarch64-linux-gnu-gcc >/dev/null; then
  run 0 "$HOIST" inspect "oci:$tmp/out-backend-extension:1.0.0" --config
  py out 'assert r["platforms"]["linux/arm64"]["config"]["config"]["Entrypoint"][0] == "/service", r'
  head -c 20 "$tmp/backend-extension/build/backend/arm64/service" | od -An -tx1 | tr -d ' \n' >"$tmp/elf"
  # ELF, 64-bit, little endian; e_machine 0xb7 = AArch64
  grep -q '^7f454c46020101' "$tmp/elf" && [ "$(head -c 20 "$tmp/backend-extension/build/backend/arm64/service" | od -An -tx1 -j18 -N2 | tr -d ' \n')" = b700 ] \
    && ok || ko "the arm64 backend is not an AArch64 ELF"
  "$tmp/host-binaries/build/host/amd64/linux/hello" hoist >"$tmp/hello" && grep -q 'hello hoist, from a host binary built for linux/amd64' "$tmp/hello" \
    && ok || ko "the amd64 host binary does not run"
fi
# a compiler error stops the release before anything is built
printf 'int main(void) { return syntax error; }\n' >"$tmp/host-binaries/src/hello.c"
run 1 "$HOIST" release "$tmp/host-binaries" --version 1.0.1 --to "oci:$tmp/out-host-binaries"
expect err '^hoist: hook before_build stopped the release: host_build .*exited with'
run 0 "$HOIST" --json tags "oci:$tmp/out-host-binaries"; py out 'assert "1.0.1" not in r, r'

# the staged multi-registry release
MR=$ROOT/examples/scripts/multi-registry.lua
run 0 "$HOIST" --json run "$MR" "$tmp/hello-extension" --version 2.0.0 --to "docker://$A/multi/hello" --to "docker://$B/multi/hello" --latest
py out 'd = r["destinations"]; assert len(d) == 2 and all(v == ["2.0.0", "latest"] for v in d.values()), r'
for reg in "$A" "$B"; do run 0 "$HOIST" validate "docker://$reg/multi/hello:2.0.0"; done
# the second registry refuses writes: nothing is tagged on either
px=$(registry_proxy writes-fail "$tmp/b")
run 1 "$HOIST" run "$MR" "$tmp/hello-extension" --version 2.1.0 --to "docker://$A/multi/hello" --to "docker://${px#http://}/multi/hello"
run 0 "$HOIST" --json tags "docker://$A/multi/hello" --semver; py out 'assert r == ["2.0.0"], r'
run 2 "$HOIST" run "$MR" "$tmp/hello-extension" --version 2.1.0

# changelog and policy steps, in a git repository
G=$tmp/git-ext
cp -r "$ROOT/examples/hello-extension" "$G"
cp "$ROOT/examples/scripts/changelog.lua" "$ROOT/examples/scripts/policy.lua" "$G/" && mkdir -p "$G/.hoist" && mv "$G/changelog.lua" "$G/policy.lua" "$G/.hoist/"
sed -i 's/^return {/local changelog, policy = require("changelog"), require("policy")\nreturn {\n  hooks = { before_build = function(ctx) policy.before_build(ctx); changelog.before_build(ctx) end },/' "$G/extension.lua"
git -C "$G" init -q && git -C "$G" -c user.email=t@e -c user.name=t add -A && git -C "$G" -c user.email=t@e -c user.name=t commit -q -m "First version of the extension"
run 0 "$HOIST" release "$G" --version 1.0.0 --to "docker://$A/policy/ext"
run 0 "$HOIST" inspect "docker://$A/policy/ext:1.0.0" --config
py out 'c = r["platforms"]["linux/amd64"]["config"]["config"]["Labels"]["com.docker.extension.changelog"]; assert "<li>First version of the extension</li>" in c and "<h3>1.0.0</h3>" in c, c'
echo "changed" >>"$G/ui/index.html"
run 1 "$HOIST" release "$G" --version 1.0.1 --to "docker://$A/policy/ext"
expect err 'hook before_build stopped the release: policy: the git tree has uncommitted changes \(ui/index.html\)'
git -C "$G" -c user.email=t@e -c user.name=t commit -q -am "Reword the UI & <fix>"
sed -i 's/"title": "Hello"/"title": "Hello again"/' "$G/metadata.json"
git -C "$G" -c user.email=t@e -c user.name=t commit -q -am "Rename the tab"
run 1 "$HOIST" release "$G" --version 1.0.1 --to "docker://$A/policy/ext"
expect err 'policy: metadata.json changed since 1.0.0 .*release at least a minor version \(got 1.0.1, a patch change\)'
run 0 "$HOIST" release "$G" --version 1.1.0 --to "docker://$A/policy/ext"
run 0 "$HOIST" inspect "docker://$A/policy/ext:1.1.0" --config
py out 'c = r["platforms"]["linux/arm64"]["config"]["config"]["Labels"]["com.docker.extension.changelog"]; assert "Reword the UI &amp; &lt;fix&gt;" in c and "Rename the tab" in c, c'
run 0 "$HOIST" --json tags "docker://$A/policy/ext" --semver; py out 'assert r == ["1.0.0", "1.1.0"], r'

finish
