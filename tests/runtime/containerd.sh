#!/bin/sh
# A private containerd (Debian's containerd 1.6 with runc): the engine under Docker Desktop's image
# store, for tests that must run the images hoist makes. Everything lives under a folder of the
# test's; no system service is touched.
#
#   containerd.sh start DIR                 start containerd for DIR (bounded wait until it answers)
#   containerd.sh run DIR REF NAME [BIND_HOST_DIR] [-- CMD ARG...]
#                                           pull REF (linux/amd64, plain http), run it detached as
#                                           NAME, BIND_HOST_DIR at /run/guest-services
#   containerd.sh wait DIR NAME [SECONDS]   wait until NAME's task exited; prints its exit status
#   containerd.sh rm DIR NAME               kill and delete NAME (task, container, snapshot)
#   containerd.sh http BIND_HOST_DIR SOCKET PATH [SECONDS]
#                                           wait for BIND_HOST_DIR/SOCKET, GET PATH over it (curl)
#   containerd.sh stop DIR                  stop everything started for DIR, unmount, clean up
#
# or, sourced (set HOIST_RUNTIME_TOOLS to this folder first; $0 is then the caller's name):
#   . "$HOIST_RUNTIME_TOOLS/containerd.sh"; containerd_start DIR; containerd_run ...; containerd_stop DIR
#
# Exit (return) status 77: containerd, ctr, runc or the runc shim is missing, or containers cannot
# run here (not root, no cgroups, no namespaces, no snapshotter); the message says which.
#
# What DIR holds (see README.md):
#   config.toml, log          containerd's configuration and output
#   sock, sock.ttrpc          its gRPC and ttrpc sockets (ctr --address DIR/sock)
#   namespace                 the containerd namespace of DIR (hoist-<12 hex of DIR's path>)
#   snapshotter               overlayfs, else native (CONTAINERD_SNAPSHOTTER forces one)
#   root/, state/, opt/       containerd's root, state and opt folders
#   runc/, fifo/              runc's state (--runc-root) and the IO FIFOs (--fifo-dir)
#   events                    every containerd event (ctr events), one line each
#   logs/NAME.log             the stdout and stderr of container NAME; logs/NAME.pull: its pull
#   containers                the names run so far
#   pids                      "PID WHAT" of containerd and the event logger; watchdog.pid
# A watchdog stops everything if DIR (its config.toml) disappears or after $HOIST_CONTAINERD_TTL
# seconds (3600), so a test that dies without `stop` leaks nothing for long.
#
# Options through the environment:
#   CONTAINERD_SNAPSHOTTER   overlayfs or native instead of probing
#   CONTAINERD_PULL_ARGS     ctr images pull flags (default --plain-http)
#   CONTAINERD_RUN_ARGS      more ctr run flags (e.g. "--net-host --env A=B"), split on spaces
#   CONTAINERD_PLATFORM      the platform pulled and run (default linux/amd64)

HOIST_RUNTIME_TOOLS=${HOIST_RUNTIME_TOOLS:-$(cd "$(dirname "$0")" && pwd)}

_cd_err() { echo "containerd.sh: $*" >&2; }

# _cd_alive PID : the process exists and is not a zombie (PID 1 of some sandboxes never reaps)
_cd_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  _cd_state=$(sed 's/.*) \([A-Za-z]\).*/\1/' "/proc/$1/stat" 2>/dev/null)
  [ "$_cd_state" != Z ]
}

# _cd_ours PID DIR : the PID still runs something of DIR's (its command line names DIR: containerd
# --config DIR/config.toml, ctr --address DIR/sock, the watchdog, the shims); guards against a
# recycled PID
_cd_ours() {
  [ -r "/proc/$1/cmdline" ] || return 0
  { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -q -F -e "$2/" -e "$2 "
}

# _cd_kill_wait PID [DIR] : TERM, wait up to 10 s, then KILL, wait up to 5 s (only if the PID is
# still DIR's, when DIR is given)
_cd_kill_wait() {
  _cd_alive "$1" || return 0
  if [ -n "${2:-}" ] && ! _cd_ours "$1" "$2"; then return 0; fi
  kill -TERM "$1" 2>/dev/null
  _cd_n=0
  while _cd_alive "$1"; do
    _cd_n=$((_cd_n + 1))
    [ "$_cd_n" -eq 100 ] && kill -KILL "$1" 2>/dev/null
    if [ "$_cd_n" -gt 150 ]; then _cd_err "process $1 does not exit"; return 1; fi
    sleep 0.1
  done
}

# _cd_ctr DIR ARGS... : ctr against DIR's containerd and namespace, bounded (60 s)
_cd_ctr() {
  _cd_d=$1; shift
  timeout 60 ctr --address "$_cd_d/sock" --namespace "$(cat "$_cd_d/namespace")" "$@"
}

# _cd_spawn OUT CMD... : start CMD detached (reparented away from the caller, so the caller has
# no zombies to reap); sets _cd_pid
_cd_spawn() {
  _cd_out=$1; shift
  _cd_pidf=$(mktemp) || return 1
  ( "$@" >"$_cd_out" 2>&1 </dev/null & echo $! >"$_cd_pidf" )
  _cd_pid=$(cat "$_cd_pidf"); rm -f "$_cd_pidf"
}

# _cd_can_run : 0 when this machine can run containers at all; else says why and returns 77
_cd_can_run() {
  for _cd_t in containerd ctr runc containerd-shim-runc-v2 curl timeout; do
    command -v "$_cd_t" >/dev/null 2>&1 || { _cd_err "SKIP: $_cd_t not installed"; return 77; }
  done
  [ "$(id -u)" -eq 0 ] || { _cd_err "SKIP: containers need root here (uid $(id -u))"; return 77; }
  grep -q '^[^ ]* /sys/fs/cgroup[ /][^ ]* cgroup2\{0,1\} ' /proc/mounts ||
    { _cd_err "SKIP: no cgroup file system mounted under /sys/fs/cgroup"; return 77; }
  # the namespaces runc makes for a container (a sandbox without them cannot run any)
  if command -v unshare >/dev/null 2>&1 &&
     ! unshare --mount --uts --ipc --net --pid --fork true 2>/dev/null; then
    _cd_err "SKIP: cannot create mount/uts/ipc/net/pid namespaces here (unshare failed)"
    return 77
  fi
  return 0
}

containerd_start() {
  _cd_dir=${1:?usage: containerd_start DIR}
  _cd_can_run || return $?
  if [ -s "$_cd_dir/pids" ]; then _cd_err "$_cd_dir: already started (stop it first)"; return 1; fi
  mkdir -p "$_cd_dir" || return 1
  _cd_dir=$(cd "$_cd_dir" && pwd)
  # A unix socket path must fit in sun_path (108 bytes, the NUL included): DIR/sock.ttrpc too.
  if [ "${#_cd_dir}" -gt 90 ]; then
    _cd_err "$_cd_dir: path too long for containerd's sockets (at most 90 characters)"; return 1
  fi
  mkdir -p "$_cd_dir/logs" "$_cd_dir/fifo" "$_cd_dir/runc" || return 1
  rm -f "$_cd_dir/log" "$_cd_dir/events" "$_cd_dir/snapshotter" "$_cd_dir/containers"
  # One namespace per DIR: the cgroups (/NS/NAME), runc's state and the shims' sockets
  # (/run/containerd/s/sha256(SOCK/NS/NAME)) are then distinct from any other instance's.
  echo "hoist-$(printf '%s' "$_cd_dir" | sha256sum | cut -c1-12)" >"$_cd_dir/namespace"
  cat >"$_cd_dir/config.toml" <<EOF
version = 2
root = "$_cd_dir/root"
state = "$_cd_dir/state"
# no CRI (Kubernetes), no snapshotters that cannot work here
disabled_plugins = ["io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$_cd_dir/sock"
[debug]
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "$_cd_dir/opt"
EOF
  _cd_spawn "$_cd_dir/log" containerd --config "$_cd_dir/config.toml" || return 1
  echo "$_cd_pid containerd" >"$_cd_dir/pids"
  _cd_n=0
  until ctr --address "$_cd_dir/sock" version >/dev/null 2>&1; do
    if ! _cd_alive "$_cd_pid"; then _cd_fail "$_cd_dir" "containerd exited while starting"; return 1; fi
    _cd_n=$((_cd_n + 1))
    [ "$_cd_n" -gt 300 ] && { _cd_fail "$_cd_dir" "containerd did not answer within 30 s"; return 1; }
    sleep 0.1
  done

  # The snapshotter: overlayfs if its plugin loaded (it test-mounts an overlay in DIR/root when
  # it starts), else native (plain copies; works wherever containerd does).
  ctr --address "$_cd_dir/sock" plugins ls >"$_cd_dir/plugins" 2>&1
  _cd_snap=${CONTAINERD_SNAPSHOTTER:-}
  if [ -z "$_cd_snap" ]; then
    for _cd_s in overlayfs native; do
      if grep -q "^io\.containerd\.snapshotter\.v1  *$_cd_s  .* ok *\$" "$_cd_dir/plugins"; then
        _cd_snap=$_cd_s; break
      fi
    done
  fi
  if [ -z "$_cd_snap" ]; then
    _cd_err "SKIP: neither the overlayfs nor the native snapshotter works here:"
    grep snapshotter "$_cd_dir/plugins" >&2
    containerd_stop "$_cd_dir"
    return 77
  fi
  echo "$_cd_snap" >"$_cd_dir/snapshotter"

  # Every event, for containerd_wait (a task's exit status is only in its /tasks/exit event).
  _cd_spawn "$_cd_dir/events" ctr --address "$_cd_dir/sock" events || return 1
  echo "$_cd_pid events" >>"$_cd_dir/pids"

  # The watchdog is not in DIR/pids: `stop` ends it first, from its own file. setsid: it outlives
  # a process-group kill of the test (a ctest timeout) and cleans up after the TTL.
  if command -v setsid >/dev/null 2>&1; then _cd_ss=setsid; else _cd_ss=; fi
  _cd_spawn /dev/null $_cd_ss sh "$HOIST_RUNTIME_TOOLS/containerd.sh" __watchdog "$_cd_dir" || return 1
  echo "$_cd_pid" >"$_cd_dir/watchdog.pid"
  return 0
}

# _cd_fail DIR MSG : report, show the end of the log, stop what was started
_cd_fail() {
  _cd_err "$2"
  [ -s "$1/log" ] && { echo "--- $1/log" >&2; tail -n 20 "$1/log" >&2; }
  containerd_stop "$1"
  return 1
}

# _cd_task_status DIR NAME : RUNNING, STOPPED, CREATED, ... or nothing
_cd_task_status() {
  _cd_ctr "$1" task ls 2>/dev/null | awk -v n="$2" '$1 == n { print $3 }'
}

# containerd_run DIR REF NAME [BIND_HOST_DIR] [-- CMD ARG...]
containerd_run() {
  _cd_usage="usage: containerd_run DIR REF NAME [BIND_HOST_DIR] [-- CMD ARG...]"
  _cd_dir=${1:?$_cd_usage}; _cd_ref=${2:?$_cd_usage}; _cd_name=${3:?$_cd_usage}
  shift 3
  _cd_bind=
  if [ $# -gt 0 ] && [ "$1" != -- ]; then _cd_bind=$1; shift; fi
  if [ $# -gt 0 ]; then
    [ "$1" = -- ] || { _cd_err "$_cd_usage"; return 2; }
    shift
  fi
  [ -s "$_cd_dir/snapshotter" ] || { _cd_err "$_cd_dir: containerd not started"; return 1; }
  _cd_dir=$(cd "$_cd_dir" && pwd)
  _cd_snap=$(cat "$_cd_dir/snapshotter")
  _cd_plat=${CONTAINERD_PLATFORM:-linux/amd64}
  # shellcheck disable=SC2086  # CONTAINERD_PULL_ARGS: flags, split on purpose
  if ! _cd_ctr "$_cd_dir" images pull ${CONTAINERD_PULL_ARGS:---plain-http} --platform "$_cd_plat" \
       --snapshotter "$_cd_snap" "$_cd_ref" >"$_cd_dir/logs/$_cd_name.pull" 2>&1; then
    _cd_err "ctr images pull $_cd_ref failed:"; tail -n 5 "$_cd_dir/logs/$_cd_name.pull" >&2
    return 1
  fi
  echo "$_cd_name" >>"$_cd_dir/containers"
  if [ -n "$_cd_bind" ]; then
    mkdir -p "$_cd_bind" || return 1
    _cd_bind=$(cd "$_cd_bind" && pwd)
    # shellcheck disable=SC2086  # CONTAINERD_RUN_ARGS: flags, split on purpose
    _cd_ctr "$_cd_dir" run -d --platform "$_cd_plat" --snapshotter "$_cd_snap" \
      --runc-root "$_cd_dir/runc" --fifo-dir "$_cd_dir/fifo" \
      --log-uri "file://$_cd_dir/logs/$_cd_name.log" \
      --mount "type=bind,src=$_cd_bind,dst=/run/guest-services,options=rbind:rw" \
      ${CONTAINERD_RUN_ARGS:-} "$_cd_ref" "$_cd_name" "$@" >"$_cd_dir/logs/$_cd_name.run" 2>&1
  else
    # shellcheck disable=SC2086
    _cd_ctr "$_cd_dir" run -d --platform "$_cd_plat" --snapshotter "$_cd_snap" \
      --runc-root "$_cd_dir/runc" --fifo-dir "$_cd_dir/fifo" \
      --log-uri "file://$_cd_dir/logs/$_cd_name.log" \
      ${CONTAINERD_RUN_ARGS:-} "$_cd_ref" "$_cd_name" "$@" >"$_cd_dir/logs/$_cd_name.run" 2>&1
  fi || { _cd_err "ctr run $_cd_ref $_cd_name failed:"; cat "$_cd_dir/logs/$_cd_name.run" >&2; return 1; }
  # ctr run -d returns once the task started; confirm it (a short command may have ended already)
  _cd_n=0
  while :; do
    case $(_cd_task_status "$_cd_dir" "$_cd_name") in RUNNING | STOPPED) return 0 ;; esac
    _cd_n=$((_cd_n + 1))
    [ "$_cd_n" -gt 300 ] && { _cd_err "task $_cd_name did not start within 30 s"; return 1; }
    sleep 0.1
  done
}

# containerd_wait DIR NAME [SECONDS] : wait (default 60 s) until NAME's task exited; prints its
# exit status (from the /tasks/exit event; containerd leaves exit_status out when it is 0)
containerd_wait() {
  _cd_dir=${1:?usage: containerd_wait DIR NAME [SECONDS]}; _cd_name=${2:?usage: containerd_wait DIR NAME [SECONDS]}
  _cd_max=$((${3:-60} * 10)) _cd_n=0
  while :; do
    # the exit of NAME's init process (id = container_id; an exec has its own id) after NAME's
    # last start: a NAME removed and run again must not find its predecessor's exit
    _cd_line=$(awk -v s=" /tasks/start {\"container_id\":\"$_cd_name\"," \
                   -v e=" /tasks/exit {\"container_id\":\"$_cd_name\",\"id\":\"$_cd_name\"," '
      index($0, s) { x = "" } index($0, e) { x = $0 } END { print x }' "$_cd_dir/events" 2>/dev/null)
    if [ -n "$_cd_line" ]; then
      case $_cd_line in
        *'"exit_status":'*) echo "$_cd_line" | sed 's/.*"exit_status":\([0-9]*\).*/\1/' ;;
        *) echo 0 ;;
      esac
      return 0
    fi
    _cd_n=$((_cd_n + 1))
    [ "$_cd_n" -gt "$_cd_max" ] && { _cd_err "task $_cd_name did not exit within ${3:-60} s"; return 1; }
    sleep 0.1
  done
}

# containerd_rm DIR NAME : kill NAME's task if running, delete it and the container (and its
# snapshot), so that NAME can be run again
containerd_rm() {
  _cd_dir=${1:?usage: containerd_rm DIR NAME}; _cd_name=${2:?usage: containerd_rm DIR NAME}
  if [ -n "$(_cd_task_status "$_cd_dir" "$_cd_name")" ]; then
    _cd_ctr "$_cd_dir" task rm -f "$_cd_name" >/dev/null 2>&1 || { _cd_err "cannot delete task $_cd_name"; return 1; }
  fi
  _cd_ctr "$_cd_dir" containers rm "$_cd_name" >/dev/null 2>&1 || { _cd_err "cannot delete container $_cd_name"; return 1; }
}

# containerd_http BIND_HOST_DIR SOCKET PATH [SECONDS] : wait (default 30 s) until the container
# has a unix socket BIND_HOST_DIR/SOCKET that accepts, then GET PATH over it; prints the body.
# Fails (1) on a timeout or an HTTP error status.
containerd_http() {
  _cd_u="usage: containerd_http BIND_HOST_DIR SOCKET PATH [SECONDS]"
  _cd_sock=${1:?$_cd_u}/${2:?$_cd_u}; _cd_path=${3:?$_cd_u}
  _cd_max=$((${4:-30} * 10)) _cd_n=0
  _cd_cerr=$(mktemp) || return 1
  while :; do
    if [ -S "$_cd_sock" ]; then
      # exit 7: the socket exists but nobody accepts yet (between bind and listen)
      curl -sS --fail --max-time 10 --unix-socket "$_cd_sock" "http://localhost$_cd_path" 2>"$_cd_cerr"
      _cd_rc=$?
      [ "$_cd_rc" -ne 7 ] && break
    fi
    _cd_n=$((_cd_n + 1))
    if [ "$_cd_n" -gt "$_cd_max" ]; then
      _cd_err "no answer on $_cd_sock within ${4:-30} s"
      cat "$_cd_cerr" >&2; rm -f "$_cd_cerr"
      return 1
    fi
    sleep 0.1
  done
  [ "$_cd_rc" -eq 0 ] || { _cd_err "GET $_cd_path on $_cd_sock: curl exit $_cd_rc"; cat "$_cd_cerr" >&2; }
  rm -f "$_cd_cerr"
  [ "$_cd_rc" -eq 0 ]
}

# _cd_cleanup DIR SOCK NS PIDS : what remains after containerd: shims and container processes of
# NS (found by their command line and cgroups, killed by PID), mounts under DIR, the cgroups of NS,
# the shims' sockets. Works when DIR is gone (the watchdog's case).
_cd_cleanup() {
  _cd_rc=0
  # the shims of this containerd: "containerd-shim-runc-v2 -namespace NS -id ID -address SOCK"
  for _cd_p in /proc/[0-9]*; do
    _cd_p=${_cd_p#/proc/}
    _cd_cmd=$({ tr '\0' ' ' <"/proc/$_cd_p/cmdline"; } 2>/dev/null) || continue
    case $_cd_cmd in
      *containerd-shim*" -namespace $3 "*" -address $2 "*)
        _cd_id=$(echo "$_cd_cmd" | sed -n 's/.* -id \([^ ]*\) .*/\1/p')
        _cd_kill_wait "$_cd_p" || _cd_rc=1
        # a killed shim leaves its socket behind
        [ -n "$_cd_id" ] && rm -f "/run/containerd/s/$(printf '%s' "$2/$3/$_cd_id" | sha256sum | cut -c1-64)"
        ;;
    esac
  done
  # container processes left (a shim killed before its task): every PID in NS's cgroups
  for _cd_c in /sys/fs/cgroup/pids/"$3" /sys/fs/cgroup/"$3" /sys/fs/cgroup/unified/"$3"; do
    [ -d "$_cd_c" ] || continue
    find "$_cd_c" -name cgroup.procs -exec cat {} + 2>/dev/null |
      while read -r _cd_p; do kill -KILL "$_cd_p" 2>/dev/null; done
  done
  # mounts under DIR (rootfs overlays, snapshot test mounts), deepest first
  _cd_left=$(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  for _cd_m in $_cd_left; do
    umount "$_cd_m" 2>/dev/null || umount -l "$_cd_m" 2>/dev/null ||
      { _cd_err "cannot unmount $_cd_m"; _cd_rc=1; }
  done
  # NS's cgroups, in every hierarchy, deepest first (rmdir fails while a process is still inside:
  # retry for up to 5 s while the KILLed ones go)
  _cd_n=0
  while :; do
    _cd_left=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$3" 2>/dev/null)
    [ -z "$_cd_left" ] && break
    for _cd_c in $_cd_left; do
      find "$_cd_c" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    _cd_n=$((_cd_n + 1))
    if [ "$_cd_n" -gt 50 ]; then _cd_err "cgroups left: $_cd_left"; _cd_rc=1; break; fi
    sleep 0.1
  done
  return $_cd_rc
}

containerd_stop() {
  _cd_dir=${1:?usage: containerd_stop DIR}
  [ -d "$_cd_dir" ] || return 0
  _cd_dir=$(cd "$_cd_dir" && pwd)
  [ -s "$_cd_dir/namespace" ] || return 0
  _cd_ns=$(cat "$_cd_dir/namespace")
  _cd_rcs=0
  if [ -s "$_cd_dir/watchdog.pid" ]; then
    _cd_kill_wait "$(cat "$_cd_dir/watchdog.pid")" "$_cd_dir" || _cd_rcs=1
    rm -f "$_cd_dir/watchdog.pid"
  fi
  # The clean way first: containerd kills and deletes each task (its shim then exits).
  if [ -S "$_cd_dir/sock" ] && ctr --address "$_cd_dir/sock" version >/dev/null 2>&1; then
    for _cd_c in $(_cd_ctr "$_cd_dir" containers ls -q 2>/dev/null); do
      _cd_ctr "$_cd_dir" task rm -f "$_cd_c" >/dev/null 2>&1
      _cd_ctr "$_cd_dir" containers rm "$_cd_c" >/dev/null 2>&1
    done
  fi
  if [ -f "$_cd_dir/pids" ]; then
    # the event logger, then containerd (reverse start order)
    # shellcheck disable=SC2013  # one PID per line
    for _cd_p in $(awk '{ l[NR] = $1 } END { for (i = NR; i > 0; i--) print l[i] }' "$_cd_dir/pids"); do
      _cd_kill_wait "$_cd_p" "$_cd_dir" || _cd_rcs=1
    done
    rm -f "$_cd_dir/pids"
  fi
  _cd_cleanup "$_cd_dir" "$_cd_dir/sock" "$_cd_ns" || _cd_rcs=1
  return $_cd_rcs
}

# The watchdog: once a second, is DIR/config.toml still there and the TTL not over? If not, stop
# everything (by PID) and clean up, from what it read at its start (DIR may be gone by then).
_cd_watchdog() {
  _cd_dir=$1 _cd_left=${HOIST_CONTAINERD_TTL:-3600}
  _cd_ns=$(cat "$_cd_dir/namespace") || exit 0
  _cd_pids=$(awk '{ l[NR] = $1 } END { for (i = NR; i > 0; i--) print l[i] }' "$_cd_dir/pids") || exit 0
  trap 'exit 0' TERM
  while [ -f "$_cd_dir/config.toml" ] && [ "$_cd_left" -gt 0 ]; do
    sleep 1 &
    wait $!   # interruptible: `stop` does not wait for the second to end
    _cd_left=$((_cd_left - 1))
  done
  for _cd_p in $_cd_pids; do _cd_kill_wait "$_cd_p" "$_cd_dir"; done
  _cd_cleanup "$_cd_dir" "$_cd_dir/sock" "$_cd_ns"
  rm -f "$_cd_dir/pids" "$_cd_dir/watchdog.pid" 2>/dev/null
}

case $(basename "$0") in
  containerd.sh)
    case ${1:-} in
      start) shift; containerd_start "$@"; exit $? ;;
      stop) shift; containerd_stop "$@"; exit $? ;;
      run) shift; containerd_run "$@"; exit $? ;;
      wait) shift; containerd_wait "$@"; exit $? ;;
      rm) shift; containerd_rm "$@"; exit $? ;;
      http) shift; containerd_http "$@"; exit $? ;;
      __watchdog) shift; _cd_watchdog "$@"; exit 0 ;;
      *) echo "usage: containerd.sh start DIR | run DIR REF NAME [BIND_HOST_DIR] [-- CMD...] |" \
              "wait DIR NAME [SECONDS] | rm DIR NAME | http BIND_HOST_DIR SOCKET PATH [SECONDS] | stop DIR" >&2
         exit 2 ;;
    esac
    ;;
esac
