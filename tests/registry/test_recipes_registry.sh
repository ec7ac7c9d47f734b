#!/usr/bin/env bash
# The image recipes against the real registry: validate, tags, updates, inspect, copy (every
# transport pair, mounts within a registry, between two registries) and index; checked with
# skopeo and by what the registry's access log shows was (not) downloaded.
# usage: test_recipes_registry.sh PATH/TO/hoist
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
tmp=$(mktemp -d)
trap 'for m in token none; do registry_stop "$tmp/$m" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
. "$ROOT/tests/check.sh"
# blob GETs in the registry log since mark (a line count): the digests, one per line
mark() { wc -l <"$REG/log"; }
blob_gets() { tail -n +"$(($1 + 1))" "$REG/log" | grep -o '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]*' | sed 's|.*/blobs/||'; }

# An extension with a layer at the bottom holding nothing metadata.json names: validate reads
# layers top-down, a lower one only when the layers above do not decide a path, so it must not
# fetch that one (a layer on top is always read: it could hide or change what lies below).
cp -r "$ROOT/examples/hello-extension" "$tmp/ext"
mkdir -p "$tmp/ext/extra" && head -c 200000 /dev/urandom >"$tmp/ext/extra/blob.bin"
sed 's|    { from = "metadata.json", to = "/metadata.json" },|    { from = "extra", to = "/extra" },\n    { from = "metadata.json", to = "/metadata.json" },|' \
  "$ROOT/examples/hello-extension/extension.lua" >"$tmp/ext/extension.lua"
grep -q '"/extra"' "$tmp/ext/extension.lua" || { echo "could not add the extra layer"; exit 1; }

for mode in token none; do
  REG=$tmp/$mode
  registry_start "$mode" "$REG" >/dev/null || exit 1
  host=$(sed 's|http://||' "$REG/url")
  set --
  sk="--tls-verify=false"
  if [ "$mode" != none ]; then
    pw=$(cat "$REG/password"); set -- --creds "hoist:$pw"; sk="$sk --creds hoist:$pw"
  fi
  D="docker://$host/acme/hello"
  run 0 "$HOIST" release "$tmp/ext" --version 1.0.0 --to "$D" "$@"
  run 0 "$HOIST" release "$tmp/ext" --version 1.1.0 --to "$D" --latest "$@"

  # tags
  run 0 "$HOIST" tags "$D" "$@";                     expect out '^latest$'
  run 0 "$HOIST" --json tags "$D" --semver "$@";     py out 'assert r == ["1.0.0", "1.1.0"], r'
  run 0 "$HOIST" --json tags "docker://$host/acme/none-here" "$@"; py out 'assert r == [], r'

  # validate from the registry: each shared layer downloaded once, the bottom layer never
  run 0 "$HOIST" --json inspect "$D:1.1.0" --config "$@"
  extra=$(jq_ out 'r["platforms"]["linux/amd64"]["manifest"]["layers"][0]["digest"]')
  m=$(mark)
  run 0 "$HOIST" validate "$D:1.1.0" "$@";           expect out 'passes the validation checks'
  blob_gets "$m" >"$tmp/gets"
  [ -s "$tmp/gets" ] && ok || ko "validate downloaded nothing (the log format changed?)"
  ! grep -q "${extra#sha256:}" "$tmp/gets" && ok || ko "validate downloaded the layer metadata.json does not name"
  [ "$(sort "$tmp/gets" | uniq -d | wc -l)" -eq 0 ] && ok || { ko "validate downloaded a blob twice"; cat "$tmp/gets"; }
  run 0 "$HOIST" validate "$D" "$@";                 expect out ':1\.1\.0 passes'
  run 1 "$HOIST" validate "$D:9.9.9" "$@";           expect err "tag '9.9.9' not found"

  # updates --api reads configs, never a layer
  m=$(mark)
  run 0 "$HOIST" --json updates "$D" --current 1.0.0 --api 0.3.3 "$@"
  py out 'assert r["updates"] == ["1.1.0"], r'
  blob_gets "$m" >"$tmp/gets"
  layers=$(grep -c -e "${extra#sha256:}" "$tmp/gets")
  [ "$(wc -l <"$tmp/gets")" -le 1 ] && [ "$layers" -eq 0 ] && ok || { ko "updates read more than one config"; cat "$tmp/gets"; }
  run 0 "$HOIST" updates "$D" --current 1.0.0 --api 0.3.2 "$@"; [ ! -s "$tmp/out" ] && ok || ko "updates --api 0.3.2 listed $(cat "$tmp/out")"

  # inspect: the bytes the registry holds
  run 0 "$HOIST" inspect "$D:1.1.0" "$@"; cp "$tmp/out" "$tmp/mine"
  # shellcheck disable=SC2086
  skopeo inspect --raw $sk "$D:1.1.0" >"$tmp/theirs" 2>&1
  [ "$(head -c -1 "$tmp/mine" | sha256sum)" = "$(sha256sum <"$tmp/theirs")" ] && ok || ko "inspect bytes differ from skopeo's"
  run 1 "$HOIST" inspect "$D:nope" "$@";             expect err "tag 'nope' not found"

  # copy within the registry: blobs mounted, nothing uploaded
  run 0 "$HOIST" --json copy "$D:1.1.0" "docker://$host/other/hello" "$@"
  py out 'b = r["blobs"]; assert b["mounted"] > 0 and b["uploaded"] == 0 and r["tags"] == ["1.1.0"], r'
  grep -q 'POST /v2/other/hello/blobs/uploads/?.*mount=' "$REG/log" && ok || ko "no mount request in the registry log"
  # registry -> layout -> another repository, checked by skopeo and validate
  run 0 "$HOIST" copy "$D:1.1.0" "oci:$tmp/lay-$mode" "$@"
  run 0 "$HOIST" validate "oci:$tmp/lay-$mode:1.1.0"
  run 0 "$HOIST" --json copy "oci:$tmp/lay-$mode:1.1.0" "docker://$host/fromlayout/hello:2.0.0" "$@"
  py out 'assert r["blobs"]["uploaded"] > 0 and r["tags"] == ["2.0.0"], r'
  dig=$(jq_ out 'r["digest"]')
  rm -rf "$tmp/back"
  # shellcheck disable=SC2086
  skopeo copy -q --all --src-tls-verify=false ${pw:+--src-creds hoist:$pw} "docker://$host/fromlayout/hello:2.0.0" "oci:$tmp/back:2.0.0" \
    && run 0 "$HOIST" validate "oci:$tmp/back:2.0.0" || ko "skopeo could not read the copy"
  # copying by digest with no tag leaves the destination untagged (only the referrers tag schema's
  # sha256-<hex> tags of the SBOMs and provenance a registry release attaches, which are not names)
  run 0 "$HOIST" --json copy "docker://$host/fromlayout/hello@$dig" "docker://$host/bydigest/hello" "$@"
  py out 'assert r["tags"] == [], r'
  run 0 "$HOIST" --json tags "docker://$host/bydigest/hello" "$@"; py out 'assert [t for t in r if not t.startswith("sha256-")] == [], r'

  # index from per-platform images pushed by digest
  for p in amd64 arm64; do
    run 0 "$HOIST" --json release "$ROOT/examples/hello-extension" --version 3.0.0 --platform linux/$p \
      --push-by-digest --to "docker://$host/acme/multi" "$@"
    echo "$(jq_ out 'r["digest"]')" >"$tmp/d-$p"
  done
  run 0 "$HOIST" --json tags "docker://$host/acme/multi" "$@"; py out 'assert [t for t in r if not t.startswith("sha256-")] == [], r'
  run 3 "$HOIST" index --to "docker://$host/acme/multi:3.0.0" "$(cat "$tmp/d-amd64")" "$@"
  expect err 'platform "linux/arm64" is missing'
  run 0 "$HOIST" --json tags "docker://$host/acme/multi" "$@"; py out 'assert [t for t in r if not t.startswith("sha256-")] == [], r'
  run 0 "$HOIST" --json index --to "docker://$host/acme/multi:3.0.0" "$(cat "$tmp/d-amd64")" "$(cat "$tmp/d-arm64")" --latest "$@"
  py out 'assert r["tags"] == ["3.0.0", "latest"] and sorted(r["platforms"]) == ["linux/amd64", "linux/arm64"], r'
  run 0 "$HOIST" validate "docker://$host/acme/multi:3.0.0" "$@"
  # shellcheck disable=SC2086
  skopeo inspect --raw $sk "docker://$host/acme/multi:3.0.0" >"$tmp/raw" 2>&1
  py raw 'assert sorted(m["platform"]["architecture"] for m in r["manifests"]) == ["amd64", "arm64"], r'

  if [ "$mode" = token ]; then
    # a wrong password: exit 1 from every recipe, never printing the password
    # (validate without a tag lists the tags first: the listing's real cause comes out, not "no semver tag")
    for recipe in "tags $D" "inspect $D:1.1.0" "validate $D:1.1.0" "validate $D" "copy $D:1.1.0 oci:$tmp/never"; do
      # shellcheck disable=SC2086
      run 1 "$HOIST" $recipe --creds "hoist:wrong-$pw"
      expect err 'authentication failed'
      ! grep -q "wrong-$pw" "$tmp/out" "$tmp/err" && ok || ko "$recipe printed the password"
    done
    [ ! -e "$tmp/never/index.json" ] && ok || ko "a failed copy wrote an index"
    # an unreachable registry: exit 1 with the connection's failure, not "no semver tag"
    run 1 "$HOIST" validate "docker://127.0.0.1:9/acme/gone"
    expect err "cannot list the tags of docker://127.0.0.1:9/acme/gone: .*127.0.0.1:9"
    ! grep -q "no semver tag" "$tmp/err" && ok || ko "an unreachable registry reads as 'no semver tag'"
    TOKEN_D=$D TOKEN_PW=$pw TOKEN_HOST=$host
  fi
done

# between two registries (token -> none): every blob streamed across, digests unchanged
run 0 "$HOIST" --json copy "$TOKEN_D:1.1.0" "docker://$host/crossed/hello" --src-creds "hoist:$TOKEN_PW"
py out 'assert r["blobs"]["uploaded"] > 0 and r["blobs"]["mounted"] == 0, r'
d1=$(jq_ out 'r["digest"]')
run 0 "$HOIST" validate "docker://$host/crossed/hello:1.1.0"; expect out passes
run 0 "$HOIST" --json inspect "docker://$host/crossed/hello:1.1.0" --config
[ "$(jq_ out 'r["digest"]')" = "$d1" ] && ok || ko "the digest changed across registries"

# a registry that answers garbage instead of JSON: exit 1, naming what could not be read
px=$(registry_proxy garbage-json "$REG")
run 1 "$HOIST" tags "docker://${px#http://}/crossed/hello";        expect err 'answered the tag list with invalid JSON'
run 1 "$HOIST" inspect "docker://${px#http://}/crossed/hello:1.1.0"; expect err 'with other content|invalid'
run 1 "$HOIST" validate "docker://${px#http://}/crossed/hello:1.1.0"
run 1 "$HOIST" release "$ROOT/examples/hello-extension" --version 9.0.0 --to "docker://${px#http://}/crossed/hello"
run 0 "$HOIST" --json tags "docker://$host/crossed/hello"; py out 'assert "9.0.0" not in r, r'

# bad references: usage errors naming the culprit; unknown host: exit 1
run 2 "$HOIST" tags "docker://$host/Acme/hello";  expect err 'lowercase'
run 2 "$HOIST" inspect "docker://$host/acme/hello:1.0+x"; expect err '\+'
run 1 "$HOIST" tags docker://no-such-host.invalid/acme/hello; expect err 'no-such-host.invalid'

finish
