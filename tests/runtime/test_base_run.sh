#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# An extension released FROM the busybox base really runs in containerd (the engine under Docker
# Desktop's image store), pulled from the registry as Desktop pulls it, with the bind folder at
# /run/guest-services and no command given (the image's own):
#   - a shell-form CMD (a string in extension.lua: /bin/sh -c from the base) writes to the bind
#     folder and sees the Env merged from the base's and the extension's;
#   - an entrypoint set by the extension with the base's CMD dropped (Docker's rule) runs as is;
#   - the same extension without a base (FROM scratch) has no /bin/sh: the container fails.
# usage: test_base_run.sh PATH/TO/hoist   (exit 77: containers cannot run here; says why)
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
HOIST_REGISTRY_TOOLS=$ROOT/tests/registry
HOIST_RUNTIME_TOOLS=$here
export HOIST_REGISTRY_TOOLS HOIST_RUNTIME_TOOLS LC_ALL=C.UTF-8
# shellcheck source=../registry/registry.sh
. "$HOIST_REGISTRY_TOOLS/registry.sh"
# shellcheck source=containerd.sh
. "$HOIST_RUNTIME_TOOLS/containerd.sh"
for t in docker-registry skopeo python3 dpkg-deb; do
  command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
tmp=$(mktemp -d)
cleanup() {
  containerd_stop "$tmp/ctd" || echo "FAIL: containerd_stop"
  registry_stop "$tmp/reg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
export HOME="$tmp/home" XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" \
  REGISTRY_AUTH_FILE="$tmp/auth.json" DOCKER_CONFIG="$tmp/docker"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
# shellcheck source=../check.sh
. "$ROOT/tests/check.sh"

sh "$ROOT/tests/fixtures/base/make_base.sh" "$tmp/base" >/dev/null 2>"$tmp/base.err"
rc=$?
[ "$rc" -eq 77 ] && { echo "SKIP: the base cannot be built here"; cat "$tmp/base.err"; exit 77; }
[ "$rc" -eq 0 ] || { cat "$tmp/base.err"; echo "FAIL: make_base.sh"; exit 1; }
registry_start none "$tmp/reg" >/dev/null || { echo "FAIL: the registry does not start"; exit 1; }
REG=$(sed 's|http://||' "$tmp/reg/url")
sh "$ROOT/tests/fixtures/base/push_base.sh" "$tmp/base" "$REG" library/busybox:1.36 >/dev/null || ko "push the base"
containerd_start "$tmp/ctd"
rc=$?
[ "$rc" -eq 77 ] && { echo "SKIP: containers cannot run here (see above)"; exit 77; }
[ "$rc" -eq 0 ] || { echo "FAIL: containerd_start"; exit 1; }

# ext NAME BASE CONFIG: the hello example with base and config set
ext() {
  rm -rf "$tmp/$1"; cp -r "$ROOT/examples/hello-extension" "$tmp/$1"
  python3 - "$tmp/$1/extension.lua" "$2" "$3" <<'PY'
import sys
p, base, config = sys.argv[1:]
s = open(p).read()
s = s.replace("  platforms = ", ("  base = %s,\n" % base if base else "") + "  config = %s,\n  platforms = " % config, 1)
open(p, "w").write(s)
PY
}

# ---------------------------------------------------------------- a shell-form CMD on the base
# shellcheck disable=SC2016  # $BASE_IMAGE, $GREETING: expanded by the container's /bin/sh
ext shell "\"docker://$REG/library/busybox:1.36\"" \
  '{ cmd = "echo \"$GREETING from $BASE_IMAGE as $(id -un)\" > /run/guest-services/out", env = { GREETING = "hello" } }'
run 0 "$HOIST" release "$tmp/shell" --version 1.0.0 --to "docker://$REG/acme/shell"
if containerd_run "$tmp/ctd" "$REG/acme/shell:1.0.0" shell "$tmp/guest-shell"; then ok; else ko "containerd_run shell"; fi
st=$(containerd_wait "$tmp/ctd" shell 30)
[ "$st" = 0 ] && ok || { ko "the shell-form CMD exited '$st'"; cat "$tmp/ctd/logs/shell.log"; }
[ "$(cat "$tmp/guest-shell/out" 2>/dev/null)" = "hello from busybox-base as root" ] && ok ||
  ko "the shell-form CMD wrote '$(cat "$tmp/guest-shell/out" 2>/dev/null)'"

# ---------------------------------------------------------------- an entrypoint drops the base's CMD
ext entry "\"docker://$REG/library/busybox:1.36\"" \
  '{ entrypoint = { "/bin/sh", "-c", "echo \"args:$#\" > /run/guest-services/out", "x" } }'
run 0 "$HOIST" release "$tmp/entry" --version 1.0.0 --to "docker://$REG/acme/entry"
if containerd_run "$tmp/ctd" "$REG/acme/entry:1.0.0" entry "$tmp/guest-entry"; then ok; else ko "containerd_run entry"; fi
st=$(containerd_wait "$tmp/ctd" entry 30)
[ "$st" = 0 ] && ok || { ko "the entrypoint exited '$st'"; cat "$tmp/ctd/logs/entry.log"; }
# the base's CMD ["sh"] would have come after the entrypoint as one more argument
[ "$(cat "$tmp/guest-entry/out" 2>/dev/null)" = "args:0" ] && ok || ko "the base's CMD was passed to the entrypoint"

# ---------------------------------------------------------------- FROM scratch: no /bin/sh
ext scratch "" '{ cmd = "echo never > /run/guest-services/out" }'
run 0 "$HOIST" release "$tmp/scratch" --version 1.0.0 --to "docker://$REG/acme/scratch"
containerd_run "$tmp/ctd" "$REG/acme/scratch:1.0.0" scratch "$tmp/guest-scratch" >/dev/null 2>&1
st=$(containerd_wait "$tmp/ctd" scratch 10 2>/dev/null)
[ "$st" != 0 ] && [ ! -e "$tmp/guest-scratch/out" ] && ok || ko "a shell-form CMD ran without /bin/sh"

finish runtime.base
