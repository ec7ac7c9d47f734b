#!/bin/sh
# hoist release --to docker://... against the real registry: every auth mode, checked with skopeo.
# usage: test_release_registry.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'for m in none basic token; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
EXT="$ROOT/examples/hello-extension"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL [$mode]: $*"; }

for mode in none basic token; do
  registry_start "$mode" "$tmp/$mode" >/dev/null || exit 1
  host=$(sed 's|http://||' "$tmp/$mode/url")
  creds="" skcreds="" srccreds=""
  if [ "$mode" != none ]; then
    pw=$(cat "$tmp/$mode/password")
    creds="--creds hoist:$pw" skcreds="--creds hoist:$pw" srccreds="--src-creds hoist:$pw"
  fi
  dest="docker://$host/acme/hello"

  # shellcheck disable=SC2086
  "$HOIST" --json release "$EXT" --version 1.0.0 --to "$dest" $creds --latest >"$tmp/out" 2>"$tmp/err" \
    && ok || { ko "release 1.0.0"; cat "$tmp/err"; }
  python3 - "$tmp/out" <<'PY' && ok || ko "release --json output"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tags"] == ["1.0.0", "latest"], r
assert r["uploaded_bytes"] > 0 and len(r["platforms"]) == 2, r
PY
  # shellcheck disable=SC2086
  skopeo list-tags --tls-verify=false $skcreds "docker://$host/acme/hello" >"$tmp/tags" 2>&1
  grep -q '"1.0.0"' "$tmp/tags" && grep -q '"latest"' "$tmp/tags" && ok || { ko "tags"; cat "$tmp/tags"; }

  # what landed, read back by an independent tool, passes validation
  rm -rf "$tmp/back"
  # shellcheck disable=SC2086
  skopeo copy -q --all --src-tls-verify=false $srccreds "docker://$host/acme/hello:1.0.0" "oci:$tmp/back:1.0.0" \
    && "$HOIST" validate "oci:$tmp/back:1.0.0" >/dev/null 2>"$tmp/err" && ok || { ko "copy back + validate"; cat "$tmp/err"; }

  # the same release again: the tag already points at it, so the rerun only finishes its tags
  # shellcheck disable=SC2086
  "$HOIST" release "$EXT" --version 1.0.0 --to "$dest" $creds --latest >/dev/null 2>"$tmp/err" \
    && ok || { ko "the same release again"; cat "$tmp/err"; }
  # other content as the same version: refused, exit 1
  # shellcheck disable=SC2086
  SOURCE_DATE_EPOCH=5 "$HOIST" release "$EXT" --version 1.0.0 --to "$dest" $creds >/dev/null 2>"$tmp/err"
  [ $? -eq 1 ] && grep -q "tag '1.0.0' already exists" "$tmp/err" && ok || { ko "existing tag not refused"; cat "$tmp/err"; }

  # an unchanged re-release under a new version uploads no layer bytes (only the new configs)
  # shellcheck disable=SC2086
  "$HOIST" --json release "$EXT" --bump patch --to "$dest" $creds >"$tmp/out" 2>"$tmp/err" \
    && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["version"]=="1.0.1" and r["uploaded_layer_bytes"]==0, r' "$tmp/out" \
    && ok || { ko "re-release uploaded layer bytes"; cat "$tmp/out" "$tmp/err"; }

  # a plain release (no --latest, --float or extra tag) lists the tags once, to check its version,
  # and reads the version tag twice, before writing it and back: no listing for float tags it does
  # not write, and no second read-back with nothing written after the first (each is a round trip)
  n0=$(wc -l <"$tmp/$mode/log")
  # shellcheck disable=SC2086
  "$HOIST" release "$EXT" --bump patch --no-sbom --no-provenance --to "$dest" $creds >/dev/null 2>"$tmp/err" \
    && ok || { ko "plain release 1.0.2"; cat "$tmp/err"; }
  sed -n "$((n0 + 1)),\$p" "$tmp/$mode/log" | grep '^[0-9.]* - ' | grep -v '" 401 ' >"$tmp/requests"
  lists=$(grep -c '"GET /v2/acme/hello/tags/list' "$tmp/requests")
  reads=$(grep -c '"HEAD /v2/acme/hello/manifests/1.0.2 ' "$tmp/requests")
  [ "$lists" -eq 1 ] && [ "$reads" -eq 2 ] && ok \
    || { ko "plain release: $lists tag listings and $reads reads of its tag (want 1 and 2)"; cat "$tmp/requests"; }

  if [ "$mode" != none ]; then
    # a wrong password: exit 1, says so, never prints the password
    "$HOIST" release "$EXT" --version 2.0.0 --to "$dest" --creds "hoist:not-the-$pw" >"$tmp/out" 2>"$tmp/err"
    [ $? -eq 1 ] && grep -q "authentication failed" "$tmp/err" && ! grep -q "not-the-" "$tmp/err" "$tmp/out" \
      && ok || { ko "wrong password"; cat "$tmp/err"; }
    # no credentials at all
    "$HOIST" release "$EXT" --version 2.0.0 --to "$dest" >/dev/null 2>"$tmp/err"
    [ $? -eq 1 ] && ok || { ko "no credentials"; cat "$tmp/err"; }
  fi

  # a registry that fails every write: exit 1, the registry's error reported, no tag
  px=$(registry_proxy writes-fail "$tmp/$mode")
  # shellcheck disable=SC2086
  "$HOIST" release "$EXT" --version 3.0.0 --to "docker://${px#http://}/acme/hello" $creds >/dev/null 2>"$tmp/err"
  [ $? -eq 1 ] && grep -q "registry '" "$tmp/err" && ok || { ko "writes-fail"; cat "$tmp/err"; }
  # shellcheck disable=SC2086
  skopeo list-tags --tls-verify=false $skcreds "docker://$host/acme/hello" >"$tmp/tags" 2>&1
  grep -q '"3.0.0"' "$tmp/tags" && ko "a tag was written by a failed release" || ok

  # a registry that fails every third request (503), or drops every third connection before
  # answering: the release completes, and what landed is intact
  for pattern in fail-every-3 drop-before; do
    px=$(registry_proxy "$pattern" "$tmp/$mode")
    repo="acme/faults-$pattern"
    # shellcheck disable=SC2086
    "$HOIST" release "$EXT" --version 1.0.0 --to "docker://${px#http://}/$repo" $creds >/dev/null 2>"$tmp/err" \
      && ok || { ko "release through $pattern"; cat "$tmp/err"; }
    rm -rf "$tmp/back"
    # shellcheck disable=SC2086
    skopeo copy -q --all --src-tls-verify=false $srccreds "docker://$host/$repo:1.0.0" "oci:$tmp/back:1.0.0" \
      && "$HOIST" validate "oci:$tmp/back:1.0.0" >/dev/null 2>"$tmp/err" && ok || { ko "intact after $pattern"; cat "$tmp/err"; }
    faults=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["faults"].values()))' "$tmp/$mode/proxy-$pattern.state" 2>/dev/null || echo 0)
    [ "${faults:-0}" -gt 0 ] && ok || ko "the $pattern proxy injected no fault (state: $(cat "$tmp/$mode/proxy-$pattern.state" 2>/dev/null))"
  done

  registry_stop "$tmp/$mode" >/dev/null 2>&1
done

# references the registry cannot take: usage errors naming the culprit
"$HOIST" release "$EXT" --version 1.0.0 --to docker://127.0.0.1:1/Acme/hello >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "lowercase" "$tmp/err" && ok || { mode=ref; ko "uppercase repository"; cat "$tmp/err"; }
"$HOIST" release "$EXT" --version 1.0.0 --to docker://127.0.0.1:1/acme/hello:1.0+x >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "+" "$tmp/err" && ok || { mode=ref; ko "tag with +"; cat "$tmp/err"; }
# an unknown host: exit 1
"$HOIST" release "$EXT" --version 1.0.0 --to docker://no-such-host.invalid/acme/hello >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "no-such-host.invalid" "$tmp/err" && ok || { mode=ref; ko "unknown host"; cat "$tmp/err"; }

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
