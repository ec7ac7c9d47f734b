#!/bin/sh
# A real registry (Debian's docker-registry: the CNCF distribution registry 2.8) for tests, on a
# free loopback port, with its storage under a folder of the test's.
#
#   registry.sh start MODE DIR        MODE: none | basic | token; prints the URL
#   registry.sh proxy PATTERN DIR [NAME]  a fault_proxy.py in front of it; prints the proxy's URL
#                                     ($HOIST_PROXY_ARGS: more options for it, e.g. "--rate 40000000
#                                     --latency-ms 20")
#   registry.sh stop DIR              stops everything started for DIR and waits until it is gone
#
# or, sourced (set HOIST_REGISTRY_TOOLS to this folder first; $0 is then the caller's name):
#   . "$HOIST_REGISTRY_TOOLS/registry.sh"; registry_start MODE DIR; registry_proxy ...; registry_stop DIR
#
# What DIR holds afterwards (see README.md):
#   url            http://127.0.0.1:PORT (no trailing newline issue: read it with $(cat DIR/url))
#   mode           none | basic | token
#   user, password the account (basic, token): user "hoist", the password from
#                  $HOIST_TEST_PASSWORD or a generated one
#   config.yml     the registry's configuration; log: its output (one line per request too)
#   pids           "PID WHAT" per line for everything started; registry.pid (and issuer.pid)
#   storage/       the registry's storage (delete enabled)
#   htpasswd       (basic) bcrypt htpasswd file
#   token/         (token) key.pem, cert.pem (self-signed; the registry's rootcertbundle)
#   issuer.url     (token) the token issuer, realm = issuer.url + /token; service/issuer names in
#                  service, issuer; token.log: one JSON line per token request; issuer.log: stderr
#   NAME.url, NAME.state, NAME.log, NAME.out   (proxy) its URL, counters, per-request log, stderr
# A watchdog stops everything if DIR is removed or after $HOIST_REGISTRY_TTL seconds (3600), so a
# test that dies without `stop` leaks nothing for long.

HOIST_REGISTRY_TOOLS=${HOIST_REGISTRY_TOOLS:-$(cd "$(dirname "$0")" && pwd)}
HOIST_REGISTRY_SERVICE=${HOIST_REGISTRY_SERVICE:-hoist-test-registry}
HOIST_REGISTRY_ISSUER=${HOIST_REGISTRY_ISSUER:-hoist-test-issuer}

_rs_err() { echo "registry.sh: $*" >&2; }

# _rs_alive PID : the process exists and is not a zombie
_rs_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  # state is the field after the ")" that closes the command name
  _rs_state=$(sed 's/.*) \([A-Za-z]\).*/\1/' "/proc/$1/stat" 2>/dev/null)
  [ "$_rs_state" != Z ]
}

# _rs_ours PID DIR : the PID still runs one of our programs, started for DIR (every command line
# started here names DIR). A recycled PID is not ours, and under parallel tests the process that
# gets it may well be another test's registry or proxy: the program's name alone does not tell.
_rs_ours() {
  [ -r "/proc/$1/cmdline" ] || return 0
  _rs_cmd=" $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)"
  case $_rs_cmd in
    *docker-registry* | *token_issuer.py* | *fault_proxy.py* | *"registry.sh __watchdog"*) ;;
    *) return 1 ;;
  esac
  case $_rs_cmd in
    *" $2/"* | *" $2 "*) return 0 ;;
  esac
  return 1
}

# _rs_wait_file FILE PID WHAT : poll (bounded, 20 s) until FILE is non-empty, failing early if PID died
_rs_wait_file() {
  _rs_n=0
  while [ ! -s "$1" ]; do
    if ! _rs_alive "$2"; then _rs_err "$3 exited while starting"; return 1; fi
    _rs_n=$((_rs_n + 1))
    if [ "$_rs_n" -gt 200 ]; then _rs_err "$3 did not start within 20 s"; return 1; fi
    sleep 0.1
  done
}

# _rs_spawn DIR WHAT OUTFILE CMD... : start CMD detached (reparented away from the caller, so the
# caller never has zombies to reap), append "PID WHAT" to DIR/pids unless WHAT is "-"; sets _rs_pid
_rs_spawn() {
  _rs_d=$1 _rs_what=$2 _rs_out=$3
  shift 3
  rm -f "$_rs_d/.spawn"
  # docker-registry reads every REGISTRY_* environment variable as a configuration override
  # (REGISTRY_AUTH_FILE, set for skopeo/podman, becomes auth.file and breaks the config): drop them.
  ( for _rs_v in $(env | sed -n 's/^\(REGISTRY_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$_rs_v"; done
    "$@" >"$_rs_out" 2>&1 </dev/null & echo $! >"$_rs_d/.spawn" )
  _rs_pid=$(cat "$_rs_d/.spawn") && rm -f "$_rs_d/.spawn"
  [ "$_rs_what" = - ] || echo "$_rs_pid $_rs_what" >>"$_rs_d/pids"
}

_rs_kill_wait() { # PID DIR : TERM, wait up to 10 s, then KILL, wait up to 5 s
  _rs_alive "$1" && _rs_ours "$1" "$2" || return 0
  kill -TERM "$1" 2>/dev/null
  _rs_n=0
  while _rs_alive "$1"; do
    _rs_n=$((_rs_n + 1))
    if [ "$_rs_n" -eq 100 ]; then kill -KILL "$1" 2>/dev/null; fi
    if [ "$_rs_n" -gt 150 ]; then _rs_err "process $1 does not exit"; return 1; fi
    sleep 0.1
  done
}

registry_stop() {
  _rs_dir=${1:?usage: registry_stop DIR}
  _rs_dir=$(cd "$_rs_dir" 2>/dev/null && pwd) || _rs_dir=$1  # as the command lines name it
  _rs_rc=0
  if [ -s "$_rs_dir/watchdog.pid" ]; then
    _rs_kill_wait "$(cat "$_rs_dir/watchdog.pid")" "$_rs_dir" || _rs_rc=1
    rm -f "$_rs_dir/watchdog.pid"
  fi
  if [ -f "$_rs_dir/pids" ]; then
    # proxies and the issuer first, the registry last (reverse start order)
    # shellcheck disable=SC2013  # one PID per line: words are lines
    for _rs_p in $(awk '{ l[NR] = $1 } END { for (i = NR; i > 0; i--) print l[i] }' "$_rs_dir/pids"); do
      _rs_kill_wait "$_rs_p" "$_rs_dir" || _rs_rc=1
    done
    rm -f "$_rs_dir/pids"
  fi
  return $_rs_rc
}

# _rs_fail DIR MSG : report, show the end of the logs, stop what was started
_rs_fail() {
  _rs_err "$2"
  for _rs_f in "$1/log" "$1/issuer.log"; do
    [ -s "$_rs_f" ] && { echo "--- $_rs_f" >&2; tail -n 20 "$_rs_f" >&2; }
  done
  registry_stop "$1"
  return 1
}

registry_start() {
  _rs_mode=${1:?usage: registry_start none|basic|token DIR}
  _rs_dir=${2:?usage: registry_start none|basic|token DIR}
  case $_rs_mode in none | basic | token) ;; *) _rs_err "unknown mode: $_rs_mode"; return 2 ;; esac
  for _rs_t in docker-registry curl python3 openssl; do
    command -v "$_rs_t" >/dev/null 2>&1 || { _rs_err "$_rs_t not found"; return 77; }
  done
  [ "$_rs_mode" = basic ] && ! command -v htpasswd >/dev/null 2>&1 && { _rs_err "htpasswd not found"; return 77; }
  if [ -s "$_rs_dir/pids" ]; then _rs_err "$_rs_dir: already started (stop it first)"; return 1; fi
  mkdir -p "$_rs_dir/storage" || return 1
  _rs_dir=$(cd "$_rs_dir" && pwd)
  rm -f "$_rs_dir/url" "$_rs_dir/log" "$_rs_dir/registry.pid" "$_rs_dir/issuer.pid" \
        "$_rs_dir/issuer.port" "$_rs_dir/issuer.url"
  echo "$_rs_mode" >"$_rs_dir/mode"

  if [ "$_rs_mode" != none ]; then
    echo hoist >"$_rs_dir/user"
    (umask 077
     if [ -n "${HOIST_TEST_PASSWORD:-}" ]; then printf '%s\n' "$HOIST_TEST_PASSWORD"
     else printf 'pw-%s\n' "$(openssl rand -hex 12)"; fi >"$_rs_dir/password")
  fi
  _rs_auth=
  case $_rs_mode in
    basic)
      # -i: the password comes on stdin, never on a command line; -B: bcrypt (all 2.8 accepts)
      head -n 1 "$_rs_dir/password" | htpasswd -iBc "$_rs_dir/htpasswd" hoist >/dev/null 2>&1 ||
        { _rs_err "htpasswd failed"; return 1; }
      _rs_auth="auth:
  htpasswd:
    realm: hoist-test-registry
    path: $_rs_dir/htpasswd"
      ;;
    token)
      mkdir -p "$_rs_dir/token"
      if [ ! -s "$_rs_dir/token/key.pem" ] || [ ! -s "$_rs_dir/token/cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 7 \
          -subj "/CN=$HOIST_REGISTRY_ISSUER" \
          -keyout "$_rs_dir/token/key.pem" -out "$_rs_dir/token/cert.pem" >/dev/null 2>&1 ||
          { _rs_err "openssl could not make the issuer's key and certificate"; return 1; }
      fi
      echo "$HOIST_REGISTRY_SERVICE" >"$_rs_dir/service"
      echo "$HOIST_REGISTRY_ISSUER" >"$_rs_dir/issuer"
      [ -f "$HOIST_REGISTRY_TOOLS/token_issuer.py" ] ||
        { _rs_err "token_issuer.py not in $HOIST_REGISTRY_TOOLS (set HOIST_REGISTRY_TOOLS)"; return 1; }
      # shellcheck disable=SC2086  # HOIST_TOKEN_ISSUER_ARGS: extra options, split on purpose
      _rs_spawn "$_rs_dir" issuer "$_rs_dir/issuer.log" \
        python3 "$HOIST_REGISTRY_TOOLS/token_issuer.py" --listen 127.0.0.1:0 \
          --port-file "$_rs_dir/issuer.port" --key "$_rs_dir/token/key.pem" \
          --cert "$_rs_dir/token/cert.pem" --issuer "$HOIST_REGISTRY_ISSUER" \
          --service "$HOIST_REGISTRY_SERVICE" --user hoist --password-file "$_rs_dir/password" \
          --log "$_rs_dir/token.log" ${HOIST_TOKEN_ISSUER_ARGS:-}
      echo "$_rs_pid" >"$_rs_dir/issuer.pid"
      _rs_wait_file "$_rs_dir/issuer.port" "$_rs_pid" "token issuer" ||
        { _rs_fail "$_rs_dir" "the token issuer did not start"; return 1; }
      echo "http://127.0.0.1:$(cat "$_rs_dir/issuer.port")" >"$_rs_dir/issuer.url"
      _rs_auth="auth:
  token:
    realm: $(cat "$_rs_dir/issuer.url")/token
    service: $HOIST_REGISTRY_SERVICE
    issuer: $HOIST_REGISTRY_ISSUER
    rootcertbundle: $_rs_dir/token/cert.pem"
      ;;
  esac

  cat >"$_rs_dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $_rs_dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: $(openssl rand -hex 16)
  headers:
    X-Content-Type-Options: [nosniff]
$_rs_auth
EOF
  # Port 0: the kernel picks a free port (no race); the registry logs the address it got.
  _rs_spawn "$_rs_dir" registry "$_rs_dir/log" docker-registry serve "$_rs_dir/config.yml"
  echo "$_rs_pid" >"$_rs_dir/registry.pid"
  _rs_n=0 _rs_port=
  while [ -z "$_rs_port" ]; do
    _rs_port=$(sed -n 's/.*msg="listening on 127\.0\.0\.1:\([0-9][0-9]*\)".*/\1/p' "$_rs_dir/log" 2>/dev/null | head -n 1)
    [ -n "$_rs_port" ] && break
    _rs_alive "$_rs_pid" || { _rs_fail "$_rs_dir" "docker-registry exited while starting"; return 1; }
    _rs_n=$((_rs_n + 1))
    [ "$_rs_n" -gt 200 ] && { _rs_fail "$_rs_dir" "docker-registry did not listen within 20 s"; return 1; }
    sleep 0.1
  done
  _rs_url=http://127.0.0.1:$_rs_port
  # Ready when /v2/ answers: 200 without auth, 401 with it.
  _rs_want=200; [ "$_rs_mode" != none ] && _rs_want=401
  _rs_n=0
  while :; do
    _rs_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$_rs_url/v2/" 2>/dev/null)
    [ "$_rs_code" = "$_rs_want" ] && break
    _rs_n=$((_rs_n + 1))
    [ "$_rs_n" -gt 100 ] && { _rs_fail "$_rs_dir" "$_rs_url/v2/ answers $_rs_code, not $_rs_want"; return 1; }
    sleep 0.1
  done
  echo "$_rs_url" >"$_rs_dir/url"

  # The watchdog is not in DIR/pids: `stop` ends it first, from its own file.
  _rs_spawn "$_rs_dir" - /dev/null sh "$HOIST_REGISTRY_TOOLS/registry.sh" __watchdog "$_rs_dir"
  echo "$_rs_pid" >"$_rs_dir/watchdog.pid"
  echo "$_rs_url"
}

# registry_proxy PATTERN DIR [NAME] : fault_proxy.py in front of DIR's registry; prints its URL
registry_proxy() {
  _rs_pat=${1:?usage: registry_proxy PATTERN DIR [NAME]}
  _rs_dir=${2:?usage: registry_proxy PATTERN DIR [NAME]}
  _rs_name=${3:-proxy-$_rs_pat}
  [ -s "$_rs_dir/url" ] || { _rs_err "$_rs_dir: no registry started"; return 1; }
  _rs_dir=$(cd "$_rs_dir" && pwd)
  rm -f "$_rs_dir/$_rs_name.port" "$_rs_dir/$_rs_name.url"
  _rs_spawn "$_rs_dir" "proxy:$_rs_name" "$_rs_dir/$_rs_name.out" \
    python3 "$HOIST_REGISTRY_TOOLS/fault_proxy.py" --listen 127.0.0.1:0 \
      --upstream "$(cat "$_rs_dir/url")" --pattern "$_rs_pat" \
      --port-file "$_rs_dir/$_rs_name.port" --state-file "$_rs_dir/$_rs_name.state" \
      --log "$_rs_dir/$_rs_name.log" ${HOIST_PROXY_ARGS:-}
  _rs_wait_file "$_rs_dir/$_rs_name.port" "$_rs_pid" "fault proxy" ||
    { cat "$_rs_dir/$_rs_name.out" >&2; return 1; }
  echo "http://127.0.0.1:$(cat "$_rs_dir/$_rs_name.port")" >"$_rs_dir/$_rs_name.url"
  cat "$_rs_dir/$_rs_name.url"
}

# The watchdog: once a second, is DIR still there and the TTL not over? If not, stop everything in
# DIR/pids. It holds DIR/pids open from the start, so it still reads the whole list (proxies added
# later included: they are appended to the same file) after DIR has been removed.
_rs_watchdog() {
  _rs_dir=$1 _rs_left=${HOIST_REGISTRY_TTL:-3600}
  exec 3<"$_rs_dir/pids" || exit 0
  trap 'exit 0' TERM
  while [ -d "$_rs_dir" ] && [ "$_rs_left" -gt 0 ]; do
    sleep 1 &
    wait $!   # interruptible: `stop` does not wait for the second to end
    _rs_left=$((_rs_left - 1))
  done
  # shellcheck disable=SC2013  # one PID per line: words are lines
  for _rs_p in $(awk '{ print $1 }' <&3); do _rs_kill_wait "$_rs_p" "$_rs_dir"; done
  rm -f "$_rs_dir/pids" "$_rs_dir/watchdog.pid" 2>/dev/null
}

case $(basename "$0") in
  registry.sh)
    case ${1:-} in
      start) shift; registry_start "$@"; exit $? ;;
      stop) shift; registry_stop "$@"; exit $? ;;
      proxy) shift; registry_proxy "$@"; exit $? ;;
      __watchdog) shift; _rs_watchdog "$@"; exit 0 ;;
      *) echo "usage: registry.sh start none|basic|token DIR | proxy PATTERN DIR [NAME] | stop DIR" >&2
         exit 2 ;;
    esac
    ;;
esac
