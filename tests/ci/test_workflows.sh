#!/bin/sh
# The example CI workflows, run step by step: examples/ci/github-release.yml (with the composite
# action ci/github/action.yml) and examples/ci/gitlab-release.yml, read with hoist's own YAML
# reader by run_workflow.py, each job a separate process with its own working copy (a clone of
# the extension's repository), home (config folder, credentials), temporary folder and cache,
# in the order of the needs: graph, against a real docker-registry with basic auth. Then the
# assembled, signed index is checked with skopeo, hoist verify and cosign_verify.py.
# What a runner would provide is stubbed (tests/ci/README.md lists it); apt-get, sudo and cmake
# are stand-ins on PATH (apt-get records what it was asked to install, which must cover
# tools/deps.sh's build libraries; cmake hands out the hoist already built instead of building
# it again for every job).
# usage: test_workflows.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
HOIST_REGISTRY_TOOLS=$ROOT/tests/registry
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
for t in python3 openssl curl skopeo git; do
  command -v "$t" >/dev/null 2>&1 || { echo "skipped: $t is missing"; exit 77; }
done
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/reg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
unset HOIST_SIGNING_PASSWORD SOURCE_DATE_EPOCH REGISTRY_AUTH_FILE DOCKER_CONFIG GITHUB_ACTIONS GITHUB_STEP_SUMMARY HOIST_HOME
export HOME="$tmp/home" XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$HOME"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
git_commit() { (cd "$1" && git init -q && git add -A && git -c user.name=ci -c user.email=ci@example.com commit -qm "$2"); }

registry_start basic "$tmp/reg" >/dev/null || exit $?
url=$(cat "$tmp/reg/url"); host=${url#http://}
pw=$(cat "$tmp/reg/password")
SECRET="sign-pw-$$-never-printed"

# the extension's repository: the example, its public key committed as release.pub
HOIST_SIGNING_PASSWORD=$SECRET "$HOIST" key generate --out "$tmp/release" >/dev/null 2>&1 || { echo "FAIL: key generate"; exit 1; }
cp -r "$ROOT/examples/hello-extension" "$tmp/repo" && cp "$tmp/release.pub" "$tmp/repo/release.pub"
git_commit "$tmp/repo" "extension" || { echo "FAIL: git"; exit 1; }
# hoist's source as a checkout would give it (the Lua library, the recipes, the action), also as a
# git repository for GitLab's `git clone "$HOIST_GIT_URL"`
mkdir -p "$tmp/hoist-src"
for f in lua scripts ci CMakeLists.txt; do cp -r "$ROOT/$f" "$tmp/hoist-src/"; done
git_commit "$tmp/hoist-src" "hoist" || { echo "FAIL: git"; exit 1; }

# stand-ins: sudo runs its command; apt-get records; cmake makes the build folder and puts the
# hoist already built there (building it again per job would take minutes on this machine)
mkdir -p "$tmp/shims"
cat >"$tmp/shims/sudo" <<'SH'
#!/bin/sh
exec "$@"
SH
cat >"$tmp/shims/apt-get" <<SH
#!/bin/sh
echo "\$*" >>"$tmp/apt.log"
SH
cat >"$tmp/shims/cmake" <<SH
#!/bin/sh
# -S SRC -B BUILD ...: configure; --build BUILD ...: build
echo "\$*" >>"$tmp/cmake.log"
while [ \$# -gt 0 ]; do
  case \$1 in
    -B) mkdir -p "\$2"; [ -f "\$2/../CMakeLists.txt" ] || true; shift 2 ;;
    --build) mkdir -p "\$2" && cp "$HOIST" "\$2/hoist"; shift 2 ;;
    *) shift ;;
  esac
done
SH
chmod +x "$tmp/shims/"*
RUNPATH="$tmp/shims:$PATH"

# --- GitHub Actions ------------------------------------------------------------------------------
cat >"$tmp/gh.json" <<JSON
{"github": {"ref_name": "v1.2.0", "ref": "refs/tags/v1.2.0", "repository": "acme/hello-extension",
            "server_url": "https://github.invalid", "sha": "$(git -C "$tmp/repo" rev-parse HEAD)"},
 "vars": {"REGISTRY": "$host", "HOIST_REPOSITORY": "hoist-project/hoist"},
 "secrets": {"REGISTRY_USER": "hoist", "REGISTRY_PASSWORD": "$pw",
             "HOIST_SIGNING_KEY": $(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$tmp/release.key"),
             "HOIST_SIGNING_PASSWORD": "$SECRET"},
 "hoist_checkout": "$tmp/hoist-src",
 "runner_arch": {"ubuntu-24.04": "X64", "ubuntu-24.04-arm": "ARM64"}}
JSON
python3 "$HERE/run_workflow.py" github "$ROOT/examples/ci/github-release.yml" --hoist "$HOIST" --repo "$tmp/repo" \
  --work "$tmp/gh" --context "$tmp/gh.json" --path "$RUNPATH" >"$tmp/gh.out" 2>&1 \
  && ok || { ko "the GitHub workflow failed"; cat "$tmp/gh.out"; for l in "$tmp"/gh/jobs/*/log; do echo "== $l"; tail -n 30 "$l"; done; }
python3 - "$tmp/gh/result.json" <<'PY' && ok || ko "GitHub jobs: order, runners, matrix"
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
assert [j["job"] for j in jobs] == ["build-0", "build-1", "index"], jobs
assert [j["runs_on"] for j in jobs] == ["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-24.04"], jobs
assert [j["matrix"]["platform"] for j in jobs[:2]] == ["linux/amd64", "linux/arm64"], jobs
PY

# check IMAGE:TAG: an index of both platforms, latest at it, signed, SBOMs per platform
check_release() {  # check_release NAME REPO TAG
  n=$1 repo=$2 tag=$3
  skopeo inspect --raw --tls-verify=false --creds "hoist:$pw" "docker://$host/$repo:$tag" >"$tmp/$n.idx" 2>"$tmp/$n.err" \
    && python3 - "$tmp/$n.idx" <<'PY' && ok || { ko "$n: the index at $repo:$tag"; cat "$tmp/$n.err"; }
import json, sys
m = json.load(open(sys.argv[1]))
assert sorted(e["platform"]["architecture"] for e in m["manifests"]) == ["amd64", "arm64"], m
PY
  d=$("$HOIST" digest "docker://$host/$repo:$tag" --creds "hoist:$pw" 2>/dev/null)
  [ -n "$d" ] && [ "$("$HOIST" digest "docker://$host/$repo:latest" --creds "hoist:$pw" 2>/dev/null)" = "$d" ] && ok || ko "$n: latest is not $tag"
  "$HOIST" verify "docker://$host/$repo:$tag" --key "$tmp/release.pub" --creds "hoist:$pw" >"$tmp/$n.v" 2>&1 && ok || { ko "$n: hoist verify"; cat "$tmp/$n.v"; }
  REGPW=$pw python3 "$ROOT/tests/sign/cosign_verify.py" --registry "$url" --repo "$repo" --user hoist --password-env REGPW \
    --ref "$tag" --key "$tmp/release.pub" --identity "$host/$repo" >"$tmp/$n.cv" 2>&1 && ok || { ko "$n: cosign_verify.py"; cat "$tmp/$n.cv"; }
  "$HOIST" --json referrers "docker://$host/$repo:$tag" --platforms --creds "hoist:$pw" >"$tmp/$n.refs" 2>"$tmp/$n.err"
  python3 - "$tmp/$n.refs" <<'PY' && ok || { ko "$n: SBOMs per platform"; cat "$tmp/$n.refs"; }
import json, sys
r = json.load(open(sys.argv[1]))
assert sorted(r["platforms"]) == ["linux/amd64", "linux/arm64"], r
for p, d in r["platforms"].items():
    assert [x["artifactType"] for x in d["referrers"]] == ["application/spdx+json"] and d["signatures"] == 1, (p, d)
PY
}
repo=acme/hello-extension
check_release gh "$repo" 1.2.0
grep -q "^### hoist index 1.2.0" "$tmp/gh/jobs/index/summary.md" && grep -q "^| signed | as $host/$repo" "$tmp/gh/jobs/index/summary.md" \
  && ok || { ko "the index job's step summary"; cat "$tmp/gh/jobs/index/summary.md"; }
grep -q "^verified sha256:" "$tmp/gh/jobs/index/log" && ok || ko "the workflow's own verify step"
# each job logged in on its own: the credentials are in its own config folder
for j in build-0 build-1 index; do
  [ -f "$tmp/gh/jobs/$j/home/.docker/config.json" ] && ok || ko "$j did not log in in its own config folder"
done
[ ! -e "$HOME/.docker/config.json" ] && ok || ko "a job wrote the test's own config"

# --- GitLab CI -------------------------------------------------------------------------------------
cp "$tmp/release.key" "$tmp/signing-key-file"   # a File variable: GitLab gives its path
cat >"$tmp/gl.json" <<JSON
{"variables": {"CI_COMMIT_TAG": "v1.3.0", "CI_REGISTRY": "$host", "CI_REGISTRY_IMAGE": "$host/acme/gitlab-ext",
               "CI_REGISTRY_USER": "hoist", "CI_REGISTRY_PASSWORD": "$pw", "CI_PROJECT_URL": "https://gitlab.invalid/acme/gitlab-ext",
               "HOIST_GIT_URL": "$tmp/hoist-src", "HOIST_SIGNING_KEY": "$tmp/signing-key-file",
               "HOIST_SIGNING_PASSWORD": "$SECRET"}}
JSON
python3 "$HERE/run_workflow.py" gitlab "$ROOT/examples/ci/gitlab-release.yml" --hoist "$HOIST" --repo "$tmp/repo" \
  --work "$tmp/gl" --context "$tmp/gl.json" --path "$RUNPATH" >"$tmp/gl.out" 2>&1 \
  && ok || { ko "the GitLab pipeline failed"; cat "$tmp/gl.out"; for l in "$tmp"/gl/jobs/*/log; do echo "== $l"; tail -n 30 "$l"; done; }
python3 - "$tmp/gl/result.json" <<'PY' && ok || ko "GitLab jobs: order, matrix, runner tags"
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
assert [j["job"] for j in jobs] == ["build: [amd64]", "build: [arm64]", "release"], jobs
assert [j["tags"] for j in jobs[:2]] == [["saas-linux-small-amd64"], ["saas-linux-small-arm64"]], jobs
PY
check_release gl acme/gitlab-ext 1.3.0

# --- what the workflows install and build ------------------------------------------------------------
# every build library tools/deps.sh installs is installed by the action and the GitLab template
libs=$(grep -oE '[a-z0-9.+-]*lib[a-z0-9.+-]*-dev' "$ROOT/tools/deps.sh" | grep -v -e clang -e c6 | sort -u)
n=0
while IFS= read -r line; do
  case $line in install*) ;; *) continue ;; esac
  n=$((n + 1))
  for l in $libs; do
    case " $line " in *" $l "*) ;; *) ko "an install step lacks $l: $line" ;; esac
  done
done <"$tmp/apt.log"
[ "$n" -ge 6 ] && ok || ko "expected an apt-get install in each of the 6 jobs, saw $n"
grep -q -- "--target hoist" "$tmp/cmake.log" && ok || ko "cmake was not asked to build hoist"

# --- secrets never printed -----------------------------------------------------------------------------
if grep -r -l -e "$SECRET" -e "$pw" "$tmp/gh/jobs" "$tmp/gl/jobs" --include=log --include=summary.md 2>/dev/null; then
  ko "a secret is in a job's output"
else
  ok
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
