#!/usr/bin/env bash
# The README's tour, run verbatim: every ```console block of README.md, in order, in a scratch
# copy of the repository (a git checkout of its own, like a fresh clone), with build/hoist being
# the hoist under test; each command's output is compared with the README (readme_tour.py says
# how, and what is masked). The registry the tour uses is the one its own blocks start with
# tests/registry/registry.sh; this script stops it (and any other) when it ends.
#
# usage: tests/docs/test_readme_tour.sh PATH/TO/hoist     (ctest: docs.readme_tour, label docs)
# Exit 0 when the README and hoist agree, 1 otherwise, 77 when a tool the tour needs is missing.
set -u
HOIST=${1:?usage: test_readme_tour.sh PATH/TO/hoist}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
case $HOIST in /*) ;; *) HOIST=$(pwd)/$HOIST ;; esac
[ -x "$HOIST" ] || { echo "FAIL: $HOIST is not an executable"; exit 1; }

# what the tour runs besides hoist (registry.sh needs docker-registry, curl, openssl)
for tool in python3 git docker-registry curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is missing (tools/deps.sh installs it)"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hoist-tour.XXXXXX") || exit 1
cleanup() {
  # every registry the tour started (a folder registry.sh wrote registry.pid into)
  find "$tmp" -name registry.pid -type f 2>/dev/null | while IFS= read -r f; do
    sh "$ROOT/tests/registry/registry.sh" stop "$(dirname "$f")" || echo "FAIL: could not stop the registry in $(dirname "$f")"
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The scratch clone: the tracked files as they are in the working tree (edits included; not
# build/, dist/, nor what following the tour in this checkout left behind, like my-ext/), committed
# into a repository of its own so that releases carry a revision, as in a fresh clone.
clone=$tmp/clone
mkdir -p "$clone" "$tmp/home" "$tmp/cache" "$tmp/config" "$tmp/tmp" || exit 1
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -C "$clone" -xf - || { echo "FAIL: cannot copy the repository"; exit 1; }
else
  (cd "$ROOT" && tar --exclude='./build*' --exclude=./dist -cf - .) | tar -C "$clone" -xf - || exit 1
fi
git -C "$clone" init -q && git -C "$clone" add -A &&
  git -C "$clone" -c user.name=tour -c user.email=tour@localhost -c commit.gpgsign=false commit -q -m tour ||
  { echo "FAIL: cannot make the scratch clone a git repository"; exit 1; }
mkdir -p "$clone/build" && ln -s "$HOIST" "$clone/build/hoist"

# A newcomer's environment, but nothing of this machine's user: no stored credentials, an empty
# layer cache, temporary files under the test's folder.
unset DOCKER_CONFIG REGISTRY_AUTH_FILE XDG_RUNTIME_DIR SOURCE_DATE_EPOCH HOIST_PATH HOIST_HOME \
      HOIST_LOG_FORMAT HOIST_REQUEST_TIMEOUT HOIST_SIGNING_PASSWORD
export HOME=$tmp/home XDG_CACHE_HOME=$tmp/cache XDG_CONFIG_HOME=$tmp/config TMPDIR=$tmp/tmp
export TERM=xterm LC_ALL=C.UTF-8 HOIST_REGISTRY_TTL=900 HOIST_TOUR_TMP=$tmp

python3 "$HERE/readme_tour.py" --readme "$clone/README.md" --dir "$clone"
