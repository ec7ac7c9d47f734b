#!/usr/bin/env bash
# hoist against a hostile registry (issue 9): hostile_proxy.py in front of the real registry
# rewrites its answers so that they try to pull credentials to another host, point the token
# realm at a file, a gopher port or a plain-http remote host, send blobs far larger than their
# descriptors, tag pages without end, or a manifest at 2 bytes per second. Each case runs a real
# hoist command (tags, updates, release, copy, validate) bounded in time, file size and memory,
# and checks what the proxy logged and what hoist printed. Plus two regression guards through
# registry.sh's fault proxy (fail-every-3, writes-fail), read back with skopeo.
# One line per case (ok/FAIL), then a table: case, load/fault, result.
# usage: test_hostile.sh PATH/TO/hoist          (exit 77: a tool is missing)
# shellcheck disable=SC2016  # need ... eval '...': expanded when the check runs, on purpose
HOIST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOIST_REGISTRY_TOOLS=$(cd "$(dirname "$0")" && pwd)
export HOIST_REGISTRY_TOOLS
. "$HOIST_REGISTRY_TOOLS/registry.sh"
for t in python3 skopeo sha256sum; do
  command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found"; exit 77; }
done

tmp=$(mktemp -d)
bg=""  # PIDs of what this script started in the background (proxies, the trickle run)
cleanup() {
  for p in $bg; do kill -TERM "$p" 2>/dev/null; done
  for p in $bg; do wait "$p" 2>/dev/null; done
  for m in none basic token; do registry_stop "$tmp/$m" >/dev/null 2>&1; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# nothing of the caller's credentials: a home of our own, no podman files
export HOME="$tmp/home" XDG_CACHE_HOME="$tmp/cache" TMPDIR="$tmp/tmp"
unset REGISTRY_AUTH_FILE XDG_RUNTIME_DIR XDG_CONFIG_HOME DOCKER_CONFIG HOIST_REQUEST_TIMEOUT
mkdir -p "$HOME" "$TMPDIR"
cp -R "$ROOT/examples/hello-extension" "$tmp/ext"
EXT=$tmp/ext
MIB=1048576
PASSWD_LINE=$(head -n 1 /etc/passwd)

# ---------------------------------------------------------------------------- bounded runs
# bounded NAME TIMEOUT_S FSIZE_BYTES RSS_GUARD_KB CMD... : runs CMD (stdin empty) in its own
# process group; stdout, stderr in $tmp/r-NAME.out/.err; $tmp/r-NAME.json gets {rc, seconds,
# maxrss_kb, killed}. The limits only keep a misbehaving hoist from hurting the machine (the
# cases assert far tighter bounds): killed after TIMEOUT_S ("timeout") or above RSS_GUARD_KB of
# resident memory ("rss"; polled every 50 ms); FSIZE_BYTES (0: none) is RLIMIT_FSIZE, so a
# runaway download dies with SIGXFSZ (rc -25, "signal") instead of filling the disk. maxrss_kb
# is getrusage(RUSAGE_CHILDREN): the peak of hoist and anything it ran.
cat >"$tmp/bounded.py" <<'PY'
import json, os, resource, signal, subprocess, sys, time
name, timeout, fsize, guard = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cmd, base = sys.argv[5:], os.path.join(os.environ["HOSTILE_TMP"], "r-" + name)
def limits():
    if fsize > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
proc = None
def stop(*_):
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    sys.exit(1)
signal.signal(signal.SIGTERM, stop)
with open(base + ".out", "wb") as out, open(base + ".err", "wb") as err:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            start_new_session=True, preexec_fn=limits)
    killed = None
    while proc.poll() is None:
        if time.monotonic() - start > timeout:
            killed = "timeout"
        elif guard > 0:
            try:
                with open("/proc/%d/status" % proc.pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:") and int(line.split()[1]) > guard:
                            killed = "rss"
            except (OSError, ValueError):
                pass
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.05)  # a bounded poll of the child, not a synchronisation
    seconds = time.monotonic() - start
with open(base + ".json", "w") as f:
    sig = signal.Signals(-proc.returncode).name if proc.returncode < 0 else None
    json.dump({"rc": proc.returncode, "signal": sig, "seconds": round(seconds, 2), "killed": killed,
               "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, f)
PY
export HOSTILE_TMP=$tmp
bounded() { python3 "$tmp/bounded.py" "$@"; }
# r NAME KEY : a field of a bounded run's result
r() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/r-$1.json" "$2"; }
# logq LOG 'expression over L (the list of JSON entries)' : prints its value
logq() { python3 -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(eval(sys.argv[2]))' "$1" "$2"; }

# ---------------------------------------------------------------------------- cases
nfail=0 ncase=0
: >"$tmp/table"
mask() { if [ -n "${SECRETS:-}" ]; then sed "$SECRETS"; else cat; fi; }
case_start() { cname=$1 cload=$2 cwhy="" crun="" cnote=""; }
# need 'what it should do' CMD... : CMD must succeed, else the case fails for that reason
need() { local what=$1; shift; "$@" || cwhy="$cwhy
    - $what"; }
case_end() {
  ncase=$((ncase + 1))
  if [ -z "$cwhy" ]; then
    echo "ok   $cname"; res=ok
  else
    nfail=$((nfail + 1)); res=FAIL
    echo "FAIL $cname:$cwhy"
    if [ -n "$crun" ]; then
      echo "    hoist: $(cat "$tmp/r-$crun.json")"
      tail -n 5 "$tmp/r-$crun.err" | cut -c1-300 | mask | sed 's/^/    stderr: /'
    fi
  fi
  # the result column: ok/FAIL, how hoist ended, what was measured
  if [ -n "$crun" ]; then
    res="$res: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
how = "killed (%s)" % r["killed"] if r["killed"] else "%s" % r["signal"] if r["signal"] else "exit %d" % r["rc"]
print("%s in %.2f s" % (how, r["seconds"]))' "$tmp/r-$crun.json")${cnote:+; $cnote}"
  elif [ -n "$cnote" ]; then
    res="$res: $cnote"
  fi
  printf '%s\t%s\t%s\n' "$cname" "$cload" "$res" >>"$tmp/table"
}
# checks on the current case's run ($crun)
rc_is() { [ "$(r "$crun" rc)" = "$1" ]; }
faster() { python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))' "$(r "$crun" seconds)" "$1"; }
err_has() { grep -E -q -- "$1" "$tmp/r-$crun.err"; }
err_has_fixed() { grep -F -q -- "$1" "$tmp/r-$crun.err"; }
quiet_about() { ! grep -F -q -- "$1" "$tmp/r-$crun.out" "$tmp/r-$crun.err"; }
no_secret() { [ -z "${PW:-}" ] || quiet_about "$PW"; }
is_true() { [ "$1" = True ]; }
num_lt() { [ "$1" -lt "$2" ]; }
num_le() { [ "$1" -le "$2" ]; }

# hostile_start PATTERN MODE NAME [OPTIONS] : a hostile_proxy.py in front of MODE's registry;
# sets HP (its folder: log, out), MAIN, SNIFF (host:port of those listeners), hp_pid
hostile_start() {
  local pat=$1 mode=$2 name=$3 n=0
  shift 3
  HP=$tmp/hp-$name
  mkdir -p "$HP"
  python3 "$HOIST_REGISTRY_TOOLS/hostile_proxy.py" --upstream "$(cat "$tmp/$mode/url")" \
    --pattern "$pat" --port-file "$HP/port" --other-port-file "$HP/other" \
    --sniff-port-file "$HP/sniff" --log "$HP/log" "$@" 2>"$HP/out" &
  hp_pid=$!
  bg="$bg $hp_pid"
  while [ ! -s "$HP/port" ]; do
    kill -0 "$hp_pid" 2>/dev/null || { echo "hostile proxy $name exited:"; cat "$HP/out"; exit 1; }
    n=$((n + 1))
    [ "$n" -gt 200 ] && { echo "hostile proxy $name did not start within 20 s"; exit 1; }
    sleep 0.1
  done
  touch "$HP/log"
  MAIN=127.0.0.1:$(cat "$HP/port") SNIFF=127.0.0.1:$(cat "$HP/sniff")
}
hostile_stop() { # PID
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  bg=$(for p in $bg; do [ "$p" = "$1" ] || printf '%s ' "$p"; done)
}
# use_mode MODE : CREDS (hoist's options), SKC (skopeo's), PW for MODE's registry
use_mode() {
  REG=$tmp/$1 CREDS=() SKC=() PW=""
  HOST=$(sed 's|http://||' "$REG/url")
  if [ "$1" != none ]; then
    PW=$(cat "$REG/password")
    CREDS=(--creds "hoist:$PW") SKC=(--creds "hoist:$PW")
  fi
}
# tags_at MODE REPO : the tags skopeo sees straight at the registry (none for an unknown repository)
tags_at() {
  use_mode "$1"
  if skopeo list-tags --tls-verify=false "${SKC[@]}" "docker://$HOST/$2" >"$tmp/sk.out" 2>"$tmp/sk.err"; then
    python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["Tags"] or []))' "$tmp/sk.out"
  elif grep -q -i -e 'registry 404 (Not Found)' -e 'name unknown' -e 'NAME_UNKNOWN' "$tmp/sk.err"; then
    :  # skopeo 1.9 on an unknown repository: "invalid status code from registry 404 (Not Found)"
  else
    echo "skopeo-failed"
  fi
}
# wait_log LOG 'condition over L' : polls (bounded, 10 s) until the condition holds
wait_log() {
  local n=0
  until [ "$(logq "$1" "bool($2)")" = True ]; do
    n=$((n + 1)); [ "$n" -gt 100 ] && return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------- the registries
for m in none basic token; do
  registry_start "$m" "$tmp/$m" >/dev/null
  rc=$?
  [ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && echo "SKIP: registry tools missing"; exit "$rc"; }
done
SECRETS=""
for m in basic token; do SECRETS="${SECRETS}s/$(cat "$tmp/$m/password")/<password>/g;"; done
# the image every case reads: released once to a layout, copied as 1.0.0 1.1.0 1.2.0 everywhere
"$HOIST" release "$EXT" --version 1.0.0 --to "oci:$tmp/lay" >"$tmp/seed.out" 2>&1 ||
  { echo "could not release the seed image:"; cat "$tmp/seed.out"; exit 1; }
for m in none basic token; do
  use_mode "$m"
  for v in 1.0.0 1.1.0 1.2.0; do
    "$HOIST" copy "oci:$tmp/lay:1.0.0" "docker://$HOST/acme/hello:$v" "${CREDS[@]}" >"$tmp/seed.out" 2>&1 ||
      { echo "could not seed $m:"; mask <"$tmp/seed.out"; exit 1; }
  done
done

# 6. trickle, in the background from the start (it may take up to 90 s; the others run meanwhile)
use_mode none
hostile_start trickle none trickle
TRICKLE_HP=$HP TRICKLE_PID=$hp_pid
env HOIST_REQUEST_TIMEOUT=2 python3 "$tmp/bounded.py" trickle 100 0 $((1024 * 1024)) \
  "$HOIST" copy "docker://$MAIN/acme/hello:1.0.0" "oci:$tmp/trickle-out" &
trickle_run=$!
bg="$bg $trickle_run"

# 1. link-other: the next tag page on another host must be fetched without credentials
link_other() { # COMMAND MODE
  local what=$1 mode=$2
  use_mode "$mode"
  case_start "link-other: $what ($mode)" "tag page Link rel=next -> OTHER"
  hostile_start link-other "$mode" "link-$what-$mode"
  crun=link-$what-$mode
  if [ "$what" = tags ]; then
    bounded "$crun" 60 0 $((1024 * 1024)) "$HOIST" --json tags "docker://$MAIN/acme/hello" "${CREDS[@]}"
    want='["1.0.0", "1.1.0", "1.2.0"]'; got="sorted(r)"
  else
    bounded "$crun" 60 0 $((1024 * 1024)) "$HOIST" --json updates "docker://$MAIN/acme/hello" --current 1.0.0 "${CREDS[@]}"
    want='["1.2.0", "1.1.0"]'; got='r["updates"]'
  fi
  need "the proxy served a first page linking to OTHER (fixture check)" \
    is_true "$(logq "$HP/log" 'any((e.get("rewrite") or "").endswith("next on OTHER") for e in L)')"
  need "follows the next link to OTHER" \
    num_le 1 "$(logq "$HP/log" 'len([e for e in L if e["listener"] == "other"])')"
  need "sends no Authorization to OTHER (it sent: $(logq "$HP/log" 'sorted(set(str(e["auth"]) for e in L if e["listener"] == "other" and e["auth"]))'))" \
    is_true "$(logq "$HP/log" 'all(e["auth"] is False for e in L if e["listener"] == "other")')"
  need "prints no password" no_secret
  cnote="OTHER got auth: $(logq "$HP/log" '",".join(sorted(set(str(e["auth"] or "none") for e in L if e["listener"] == "other"))) or "no request"')"
  if [ "$mode" = none ]; then
    need "exit 0" rc_is 0
    need "lists every tag of both pages ($want)" python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit($got != $want)" "$tmp/r-$crun.out"
  else
    # without credentials OTHER's page cannot be read: a partial list must not pass for all
    need "exit 1 (OTHER's page needs the credentials it must not get)" rc_is 1
  fi
  hostile_stop "$hp_pid"
  case_end
}
link_other tags none
link_other tags token
link_other updates basic

# 2. location-other: an upload session moved to another host gets no credentials
location_other() { # COMMAND MODE
  local what=$1 mode=$2 repo
  use_mode "$mode"
  repo=acme/loc-$what-$mode
  case_start "location-other: $what ($mode)" "upload session Location -> OTHER"
  hostile_start location-other "$mode" "loc-$what-$mode"
  crun=loc-$what-$mode
  if [ "$what" = release ]; then
    bounded "$crun" 60 0 $((1024 * 1024)) "$HOIST" release "$EXT" --version 2.0.0 --to "docker://$MAIN/$repo" "${CREDS[@]}"
  else
    bounded "$crun" 60 0 $((1024 * 1024)) "$HOIST" copy "oci:$tmp/lay:1.0.0" "docker://$MAIN/$repo:2.0.0" "${CREDS[@]}"
  fi
  need "the proxy moved an upload session to OTHER (fixture check)" \
    is_true "$(logq "$HP/log" 'any(e.get("rewrite") == "location" for e in L)')"
  need "sends the upload (PATCH/PUT) to OTHER" \
    num_le 1 "$(logq "$HP/log" 'len([e for e in L if e["listener"] == "other" and e["method"] in ("PATCH", "PUT")])')"
  need "sends no Authorization to OTHER (it sent: $(logq "$HP/log" 'sorted(set(str(e["auth"]) for e in L if e["listener"] == "other" and e["auth"]))'))" \
    is_true "$(logq "$HP/log" 'all(e["auth"] is False for e in L if e["listener"] == "other")')"
  need "prints no password" no_secret
  cnote="OTHER got auth: $(logq "$HP/log" '",".join(sorted(set(str(e["auth"] or "none") for e in L if e["listener"] == "other"))) or "no request"')"
  tags_at "$mode" "$repo" >"$tmp/tags-now"
  grep -qx 2.0.0 "$tmp/tags-now" && cnote="$cnote; tag written" || cnote="$cnote; no tag"
  need "skopeo can read the tags" eval '! grep -q skopeo-failed "$tmp/tags-now"'
  if [ "$mode" = none ]; then
    need "exit 0 (no auth needed: it completes)" rc_is 0
    need "tag 2.0.0 written" grep -qx 2.0.0 "$tmp/tags-now"
  else
    need "exit 1 (OTHER's 401 must not be answered with credentials)" rc_is 1
    need "no tag written (skopeo sees: $(tr '\n' ' ' <"$tmp/tags-now"))" eval '! grep -qx 2.0.0 "$tmp/tags-now"'
  fi
  hostile_stop "$hp_pid"
  case_end
}
location_other release basic
location_other copy token
location_other copy none

# 3. the token realm: a file, a gopher port, a plain-http remote host (token mode)
realm_case() { # PATTERN COMMAND
  local pat=$1 what=$2 realm
  use_mode token
  case_start "$pat: $what (token)" "WWW-Authenticate realm rewritten"
  hostile_start "$pat" token "$pat"
  case $pat in
    realm-file) realm=file:///etc/passwd ;;
    realm-gopher) realm=gopher://$SNIFF/_x ;;
    realm-http-remote) realm=http://hoist-realm.invalid/token ;;
  esac
  cload="realm=\"$realm\""
  crun=$pat
  case $what in
    tags) bounded "$crun" 60 0 $((1024 * 1024)) "$HOIST" tags "docker://$MAIN/acme/hello" "${CREDS[@]}" ;;
    copy) bounded "$crun" 60 0 $((1024 * 1024)) "$HOIST" copy "docker://$MAIN/acme/hello:1.0.0" "oci:$tmp/realm-out" "${CREDS[@]}" ;;
    validate) bounded "$crun" 60 0 $((1024 * 1024)) "$HOIST" validate "docker://$MAIN/acme/hello:1.0.0" "${CREDS[@]}" ;;
  esac
  need "the proxy rewrote a challenge (fixture check)" \
    is_true "$(logq "$HP/log" 'any(e.get("rewrite") == "realm" for e in L)')"
  need "exit 1" rc_is 1
  need "its message quotes the realm $realm" err_has_fixed "$realm"
  need "nothing connects to SNIFF ($(logq "$HP/log" 'len([e for e in L if e["listener"] == "sniff" and e.get("event") == "connect"])') connections)" \
    is_true "$(logq "$HP/log" 'not any(e["listener"] == "sniff" for e in L)')"
  need "no /etc/passwd content in the output" quiet_about "$PASSWD_LINE"
  cnote="SNIFF connections: $(logq "$HP/log" 'len([e for e in L if e["listener"] == "sniff" and e.get("event") == "connect"])')"
  need "prints no password" no_secret
  hostile_stop "$hp_pid"
  case_end
}
realm_case realm-file tags
realm_case realm-gopher copy
realm_case realm-http-remote validate

# 4. a blob far larger than its descriptor: Content-Length 2 GiB, or chunked without end
huge_case() { # PATTERN COMMAND TARGET
  local pat=$1 what=$2 target=$3 digest sent
  use_mode none
  case_start "$pat: $what ($target blob)" ""
  [ "$pat" = huge-blob ] && cload="blob: 200, Content-Length 2 GiB" || cload="blob: 200, chunked, endless"
  hostile_start "$pat" none "$pat-$what" --huge-target "$target"
  crun=$pat-$what
  export TMPDIR=$tmp/tmp-$crun
  mkdir -p "$TMPDIR"
  # RLIMIT_FSIZE 256 MiB: a hoist that writes what it is sent dies (SIGXFSZ) before the disk fills
  if [ "$what" = copy ]; then
    bounded "$crun" 30 $((256 * MIB)) $((1024 * 1024)) "$HOIST" copy "docker://$MAIN/acme/hello:1.0.0" "oci:$tmp/out-$crun"
  else
    bounded "$crun" 30 $((256 * MIB)) $((1024 * 1024)) "$HOIST" validate "docker://$MAIN/acme/hello:1.0.0"
  fi
  export TMPDIR=$tmp/tmp
  digest=$(logq "$HP/log" '([e["path"].rsplit("/", 1)[1] for e in L if (e.get("rewrite") or "").startswith("huge")] or [""])[0]')
  need "the proxy answered a $target blob with the huge body (fixture check)" [ -n "$digest" ]
  need "exit 1" rc_is 1
  need "stops within 10 s" faster 10
  need "its message names $digest and says it is larger than its descriptor's size" \
    eval 'grep -F -- "$digest" "$tmp/r-$crun.err" | grep -E -i -q "with more than its [0-9]+ bytes"'
  if wait_log "$HP/log" 'any(e.get("event") == "body-end" for e in L)'; then
    sent=$(logq "$HP/log" 'max(e["sent"] for e in L if e.get("event") == "body-end")')
    need "hangs up well before 64 MiB (the proxy sent $((sent / MIB)) MiB: $sent bytes)" num_lt "$sent" $((64 * MIB))
    cnote="proxy sent $((sent / MIB)) MiB"
  else
    need "hangs up (the proxy is still sending)" false
  fi
  need "TMPDIR holds no leftover ($(find "$tmp/tmp-$crun" -mindepth 1 | head -n 3 | tr '\n' ' '))" \
    [ -z "$(find "$tmp/tmp-$crun" -mindepth 1 | head -n 1)" ]
  if [ "$what" = copy ]; then
    need "no partial file in the destination layout" \
      [ -z "$(find "$tmp/out-$crun" -name '*.tmp-*' 2>/dev/null | head -n 1)" ]
  fi
  hostile_stop "$hp_pid"
  case_end
}
huge_case huge-blob copy any          # the first blob a copy fetches: the config
huge_case huge-blob validate layer
huge_case huge-blob-chunked copy any
huge_case huge-blob-chunked validate layer

# 5. tag pages without end: the same URL again and again, or new names and URLs forever
tags_case() { # PATTERN
  local pat=$1 rss pages
  use_mode none
  case_start "$pat: tags" ""
  [ "$pat" = tags-same-url ] && cload='every page: Link rel=next -> the same URL' \
    || cload='every page: 25,000 new tags, Link -> a new URL'
  hostile_start "$pat" none "$pat"
  crun=$pat
  # killed at 30 s or 1 GiB of RSS: today's hoist would otherwise run on and on
  bounded "$crun" 30 0 $((1024 * 1024)) "$HOIST" tags "docker://$MAIN/acme/hello"
  pages=$(logq "$HP/log" 'len([e for e in L if (e.get("rewrite") or "").startswith(("same-url", "endless"))])')
  rss=$(r "$crun" maxrss_kb)
  cnote="$pages pages, peak RSS $((rss / 1024)) MiB"
  need "the proxy served a hostile page (fixture check)" num_le 1 "$pages"
  need "exit 1" rc_is 1
  need "stops within 20 s" faster 20
  need "its message says 'sends tag pages without end'" err_has 'sends tag pages without end'
  need "peak RSS under 200 MB (was $((rss / 1024)) MiB)" num_lt "$rss" 195312
  if [ "$pat" = tags-same-url ]; then
    # a page that links to itself is a loop the first time round: asking again is pointless
    need "asks for the self-linking page at most twice (asked $pages times)" num_le "$pages" 2
  fi
  hostile_stop "$hp_pid"
  case_end
}
tags_case tags-same-url
tags_case tags-endless

# ---------------------------------------------------------------------------- regression guards
# 10 releases through a proxy failing every third request: all land intact (skopeo reads them)
use_mode basic
case_start "guard: 10 releases (basic)" "fail-every-3: 503 on requests 3, 6, 9..."
ngood=0
px=$(registry_proxy fail-every-3 "$REG") || exit 1
crun=""
for i in 0 1 2 3 4 5 6 7 8 9; do
  v=1.0.$i
  if ! "$HOIST" --json release "$EXT" --version "$v" --to "docker://${px#http://}/acme/guard" "${CREDS[@]}" \
       >"$tmp/g.out" 2>"$tmp/g.err"; then
    need "release $v exits 0 ($(tail -n 1 "$tmp/g.err" | mask))" false
    continue
  fi
  # the retries are not silent: a summary line (and each one with --debug)
  grep -q 'tried again after a busy or dropped answer' "$tmp/g.err" || need "release $v says it retried" false
  dig=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$tmp/g.out")
  if skopeo inspect --tls-verify=false --raw "${SKC[@]}" "docker://$HOST/acme/guard:$v" >"$tmp/g.raw" 2>"$tmp/g.err"; then
    got="sha256:$(sha256sum <"$tmp/g.raw" | cut -d' ' -f1)"
    if [ "$got" = "$dig" ]; then ngood=$((ngood + 1)); else
      need "$v reads back as $dig (skopeo: $got)" false; fi
  else
    need "skopeo reads $v back ($(tail -n 1 "$tmp/g.err" | mask))" false
  fi
done
faults=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["faults"].values()))' "$REG/proxy-fail-every-3.state")
need "the proxy injected 503s (fixture check)" num_le 1 "$faults"
cnote="$ngood of 10 released and read back intact; $faults 503s injected"
need "prints no password" eval '! grep -F -q -- "$PW" "$tmp/g.out" "$tmp/g.err"'
case_end

# a release through a proxy that fails every write: exit 1, no new tag
case_start "guard: release (basic)" "writes-fail: every PUT/PATCH/POST 500"
px=$(registry_proxy writes-fail "$REG") || exit 1
tags_at basic acme/guard >"$tmp/tags-before"
crun=writes-fail
bounded "$crun" 120 0 $((1024 * 1024)) "$HOIST" release "$EXT" --version 3.0.0 --to "docker://${px#http://}/acme/guard" "${CREDS[@]}"
need "exit 1" rc_is 1
tags_at basic acme/guard >"$tmp/tags-now"
need "skopeo reads the tags" eval '! grep -q skopeo-failed "$tmp/tags-before" "$tmp/tags-now"'
need "no new tag (before: $(tr '\n' ' ' <"$tmp/tags-before"); after: $(tr '\n' ' ' <"$tmp/tags-now"))" \
  cmp -s "$tmp/tags-before" "$tmp/tags-now"
need "no tag 3.0.0" eval '! grep -qx 3.0.0 "$tmp/tags-now"'
need "prints no password" no_secret
case_end

# ---------------------------------------------------------------------------- 6. trickle (joined)
use_mode none
case_start "trickle: copy" "manifest body at 2 B/s; HOIST_REQUEST_TIMEOUT=2"
wait "$trickle_run"
bg=$(for p in $bg; do [ "$p" = "$trickle_run" ] || printf '%s ' "$p"; done)
crun=trickle HP=$TRICKLE_HP
need "the proxy trickled a manifest (fixture check)" \
  is_true "$(logq "$HP/log" 'any(e.get("rewrite") == "trickle" for e in L)')"
need "exit 1" rc_is 1
need "fails within 90 s" faster 90
need "its message says 'timed out'" err_has 'timed out'
wait_log "$HP/log" 'any(e.get("event") == "body-end" for e in L)'
cnote="proxy sent $(logq "$HP/log" 'max([e["sent"] for e in L if e.get("event") == "body-end"] or [0])') body bytes"
hostile_stop "$TRICKLE_PID"
case_end

# ---------------------------------------------------------------------------- summary
echo
printf '%-40s %-48s %s\n' case load/fault result
printf '%-40s %-48s %s\n' ---- ---------- ------
while IFS="$(printf '\t')" read -r c l s; do printf '%-40s %-48s %s\n' "$c" "$l" "$s"; done <"$tmp/table"
echo "hostile: $((ncase - nfail)) of $ncase cases ok, $nfail failed"
[ "$nfail" -eq 0 ]
