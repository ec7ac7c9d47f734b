#!/usr/bin/env bash
# Concurrent writers, killed releases and a destination whose tags cannot be read, in an OCI
# layout and in the real registry (hoist issues 9 item 6-7 and 13 item 1):
#   - the same new version released by two processes at once (other content each): exactly one
#     exits 0, the other exits 1 naming the winner, and the tag points at the winner's digest;
#   - two versions released at once into one destination: both tags are there;
#   - 1.0.0 and 2.0.0 released at once with --latest: `latest` ends on 2.0.0;
#   - a release killed (SIGKILL) at a random point is run again and finishes (same digest);
#   - a destination whose tag listing fails stops `release --force --latest` before it writes
#     anything, so `latest` never moves backwards.
# Each race runs ROUNDS times (default 10). usage: test_concurrency.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'registry_stop "$tmp/reg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
. "$ROOT/tests/check.sh"
ROUNDS=${ROUNDS:-10}
EXT=$ROOT/examples/hello-extension

registry_start none "$tmp/reg" >/dev/null || exit 1
host=$(sed 's|http://||' "$tmp/reg/url")

# digest_of FILE: the index digest a --json release printed
digest_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$1" 2>/dev/null; }
# target DEST TAG: what TAG points at now (layout: index.json; registry: skopeo)
target() {
  case $1 in
    oci:*) python3 - "${1#oci:}/index.json" "$2" <<'PY'
import json, sys
for m in json.load(open(sys.argv[1]))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"])
PY
    ;;
    docker://*)
      skopeo inspect --raw --tls-verify=false "$1:$2" >"$tmp/raw" 2>/dev/null &&
        sha256sum <"$tmp/raw" | sed 's/^/sha256:/; s/ .*//' ;;
  esac
}
# release_bg NAME EPOCH ARGS...: a release in the background, output in $tmp/NAME.{out,err,rc}
release_bg() {
  n=$1 e=$2; shift 2
  ( SOURCE_DATE_EPOCH=$e "$HOIST" --json release "$EXT" "$@" >"$tmp/$n.out" 2>"$tmp/$n.err" </dev/null
    echo $? >"$tmp/$n.rc" ) &
}

for kind in layout registry; do
  # ---------------------------------------------------------------- the same version at once
  same_ok=0
  for r in $(seq 1 "$ROUNDS"); do
    if [ $kind = layout ]; then dest=oci:$tmp/same-$r; else dest=docker://$host/same/r$r; fi
    release_bg a 100 --version 1.0.0 --to "$dest"
    release_bg b 200 --version 1.0.0 --to "$dest"
    wait
    ra=$(cat "$tmp/a.rc") rb=$(cat "$tmp/b.rc")
    if [ "$ra" = 0 ] && [ "$rb" = 0 ]; then
      ko "$kind round $r: both releases of 1.0.0 exited 0"; continue
    fi
    if [ "$ra" = 0 ]; then win=a lose=b; elif [ "$rb" = 0 ]; then win=b lose=a; else
      ko "$kind round $r: neither release of 1.0.0 exited 0"; cat "$tmp/a.err" "$tmp/b.err"; continue
    fi
    wd=$(digest_of "$tmp/$win.out") now=$(target "$dest" 1.0.0)
    if [ "$(cat "$tmp/$lose.rc")" = 1 ] && [ -n "$wd" ] && [ "$wd" = "$now" ] &&
       grep -q -E "released concurrently as $wd|already exists at .* as ${wd:0:19}" "$tmp/$lose.err"; then
      same_ok=$((same_ok + 1))
    else
      ko "$kind round $r: winner $wd, tag $now, loser exit $(cat "$tmp/$lose.rc")"; cat "$tmp/$lose.err"
    fi
  done
  [ "$same_ok" -eq "$ROUNDS" ] && ok || ko "$kind: same version: $same_ok of $ROUNDS rounds correct"
  echo "$kind: one version by two writers at once: $same_ok/$ROUNDS correct"

  # ---------------------------------------------------------------- two versions at once, --latest
  both_ok=0 latest_ok=0
  for r in $(seq 1 "$ROUNDS"); do
    if [ $kind = layout ]; then dest=oci:$tmp/two-$r; else dest=docker://$host/two/r$r; fi
    release_bg a 100 --version 1.0.0 --to "$dest" --latest
    release_bg b 100 --version 2.0.0 --to "$dest" --latest
    wait
    if [ "$(cat "$tmp/a.rc")" != 0 ] || [ "$(cat "$tmp/b.rc")" != 0 ]; then
      ko "$kind round $r: a release failed"; cat "$tmp/a.err" "$tmp/b.err"; continue
    fi
    d1=$(digest_of "$tmp/a.out") d2=$(digest_of "$tmp/b.out")
    [ "$(target "$dest" 1.0.0)" = "$d1" ] && [ "$(target "$dest" 2.0.0)" = "$d2" ] && both_ok=$((both_ok + 1)) \
      || ko "$kind round $r: a version tag was lost"
    [ "$(target "$dest" latest)" = "$d2" ] && latest_ok=$((latest_ok + 1)) \
      || ko "$kind round $r: latest is not 2.0.0"
  done
  [ "$both_ok" -eq "$ROUNDS" ] && [ "$latest_ok" -eq "$ROUNDS" ] && ok || ko "$kind: two versions: $both_ok/$latest_ok of $ROUNDS"
  echo "$kind: two versions at once: both tags $both_ok/$ROUNDS, latest on the higher $latest_ok/$ROUNDS"

  # ---------------------------------------------------------------- kill -9, then run again
  kill_ok=0
  for r in $(seq 1 "$ROUNDS"); do
    if [ $kind = layout ]; then dest=oci:$tmp/kill-$r; else dest=docker://$host/kill/r$r; fi
    "$HOIST" release "$EXT" --version 0.9.0 --to "$dest" >/dev/null 2>&1
    SOURCE_DATE_EPOCH=300 "$HOIST" release "$EXT" --version 1.0.0 --to "$dest" --latest --float >/dev/null 2>&1 </dev/null &
    pid=$!
    # a kill point that moves through the release: 0 .. ~0.5 s
    python3 -c "import time; time.sleep(0.05 * $r)"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    if SOURCE_DATE_EPOCH=300 "$HOIST" --json release "$EXT" --version 1.0.0 --to "$dest" --latest --float \
         >"$tmp/k.out" 2>"$tmp/k.err" </dev/null; then
      d=$(digest_of "$tmp/k.out")
      if [ "$(target "$dest" 1.0.0)" = "$d" ] && [ "$(target "$dest" latest)" = "$d" ] &&
         [ "$(target "$dest" 1)" = "$d" ] && [ "$(target "$dest" 1.0)" = "$d" ]; then kill_ok=$((kill_ok + 1))
      else ko "$kind round $r: after the rerun a tag is missing"; fi
    else
      ko "$kind round $r: the rerun after kill -9 failed"; cat "$tmp/k.err"
    fi
    if [ $kind = layout ]; then
      left=$(find "${dest#oci:}" -name '*.tmp-*' | wc -l)
      [ "$left" -eq 0 ] || ko "$kind round $r: $left temp files left after the rerun"
    fi
  done
  [ "$kill_ok" -eq "$ROUNDS" ] && ok || ko "$kind: kill -9 then rerun: $kill_ok of $ROUNDS"
  echo "$kind: killed at a moving point, run again: $kill_ok/$ROUNDS finished every tag"
done

# ---------------------------------------------------------------- another writer, another machine
# A writer on another machine (no shared lock) puts its manifest under the tag right after ours:
# the read-back finds it, and the release fails naming it instead of claiming the tag.
px=$(registry_proxy steal-tag "$tmp/reg")
run 1 "$HOIST" --json release "$EXT" --version 1.0.0 --to "docker://${px#http://}/stolen/app" --latest
stolen=$(target "docker://$host/stolen/app" 1.0.0)
[ -n "$stolen" ] && ok || ko "the thief's manifest is not under 1.0.0"
expect err "1.0.0 was released concurrently as $stolen; this release"
[ -z "$(target "docker://$host/stolen/app" latest)" ] && ok || ko "latest was written by a release that lost its version tag"

# ---------------------------------------------------------------- a tag listing that fails
px=$(registry_proxy tags-500 "$tmp/reg")
run 0 "$HOIST" release "$EXT" --version 2.0.0 --to "docker://$host/back/app" --latest
latest_before=$(target "docker://$host/back/app" latest)
run 1 "$HOIST" release "$EXT" --version 1.0.0 --to "docker://${px#http://}/back/app" --force --latest
expect err 'tag list'
[ "$(target "docker://$host/back/app" latest)" = "$latest_before" ] && ok || ko "latest moved after a failed listing"
[ -z "$(target "docker://$host/back/app" 1.0.0)" ] && ok || ko "1.0.0 was tagged although the listing failed"
run 1 "$HOIST" release "$EXT" --version 1.0.0 --to "docker://${px#http://}/back/app" --dry-run --latest
expect err 'tag list'
# an OCI layout whose index.json cannot be read: the same
mkdir -p "$tmp/broken" && "$HOIST" release "$EXT" --version 2.0.0 --to "oci:$tmp/broken" --latest >/dev/null 2>&1
cp "$tmp/broken/index.json" "$tmp/broken.index"
printf '{"manifests": [' >"$tmp/broken/index.json"
run 1 "$HOIST" release "$EXT" --version 1.0.0 --to "oci:$tmp/broken" --force --latest
expect err 'index.json'
cmp -s "$tmp/broken/index.json" <(printf '{"manifests": [') && ok || ko "a broken index.json was rewritten"

finish concurrency
