# shellcheck shell=bash disable=SC2034
# Shared by tests/testbed/up and tests/testbed/down (sourced, not run).
#
# The testbed's daemons, namespaces, sockets and ports are machine-wide
# singletons (one netns called ship2, one registry on :5000, one sshd on
# :2222), while its state (certificates, keys, data roots, logs) lives in a
# state directory. /run/maestro-testbed/owner names the state directory of the
# testbed that is up, so that an `up` from another checkout reuses it instead
# of fighting over the same addresses.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${MAESTRO_TESTBED:-$REPO/target/testbed}
RUNDIR=/run/maestro-testbed
OWNER_FILE=$RUNDIR/owner
LOCK_FILE=$RUNDIR/lock

# Fixed facts of the topology; testbed.env repeats them for the tests.
MAIN_SOCK=/var/run/docker.sock
SHIP2_NS=ship2 SHIP2_HOST_IF=veth-h SHIP2_NS_IF=veth-s2
SHIP2_GW=10.99.0.1 SHIP2_ADDR=10.99.0.2 SHIP2_PORT=2375
SHIP2_SOCK=/var/run/docker-ship2.sock
SHIP3_NS=ship3 SHIP3_HOST_IF=veth-h3 SHIP3_NS_IF=veth-s3
SHIP3_GW=10.99.1.1 SHIP3_ADDR=10.99.1.2 SHIP3_PORT=2376
SHIP3_SOCK=/var/run/docker-ship3.sock
SHIP3_NAME=ship3.test
# The Podman ship: `podman system service` (Docker-compatible API) in its own
# netns, once on plain TCP and once on a unix socket (one listener per service).
PODMAN_NS=shippod PODMAN_HOST_IF=veth-hp PODMAN_NS_IF=veth-sp
PODMAN_GW=10.99.2.1 PODMAN_ADDR=10.99.2.2 PODMAN_PORT=2377
PODMAN_SOCK=/var/run/podman-ship.sock
REGISTRY_PORT=5000 REGISTRY_USER=maestro
SSH_PORT=2222
TEST_IMAGE=maestro-test/busybox:latest

# say FACILITY MESSAGE: one status line, with the seconds since the script began.
say() { printf 'testbed: %3ss %-9s %s\n' "$SECONDS" "$1" "$2"; }

# fail FACILITY MESSAGE [LOGFILE]: reports, shows the log's tail, exits 1.
fail() {
  say "$1" "FAILED: $2" >&2
  if [ -n "${3:-}" ] && [ -s "$3" ]; then
    echo "---- last lines of $3 ----" >&2
    tail -n 25 "$3" >&2
    echo "----" >&2
  fi
  exit 1
}

# alive PIDFILE [NAME]: the process in PIDFILE runs (and its command line
# mentions NAME, so that a recycled pid does not count).
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A child of ours that died stays a zombie until reaped: dead all the same.
  local stat
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] || return 1
  [ -z "${2:-}" ] || [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$2"* ]]
}

# stop_pidfile PIDFILE NAME: TERM, wait up to 20 s, then KILL. Only ever the
# pid recorded in PIDFILE.
stop_pidfile() {
  local pid i
  if alive "$1" "$2"; then
    pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$1"
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# wait_while_alive PIDFILE SECONDS COMMAND...: like wait_for, but gives up
# at once when the process in PIDFILE has died.
wait_while_alive() {
  local pidfile=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] && alive "$pidfile" || return 1
    sleep 0.2
  done
}

# podman_stop STATE: removes the Podman ship's containers (conmon keeps them
# running without the service) and stops both of its services.
podman_stop() {
  local d=$1/podman
  if alive "$d/service-unix.pid" podman; then
    podman --remote --url "unix://$PODMAN_SOCK" rm -f -a -t 1 >/dev/null 2>&1 || true
  fi
  stop_pidfile "$d/service-tcp.pid" podman
  stop_pidfile "$d/service-unix.pid" podman
  rm -f "$PODMAN_SOCK"
}

# exec_root STATE SHIP: the ship's dockerd --exec-root. It holds sockets
# (short paths needed) and belongs with the data root: one per ship and
# state dir.
exec_root() {
  echo "/var/run/maestro-testbed-$2-$(printf '%s' "$1" | sha256sum | cut -c1-8)"
}

# The state directory that owns the running testbed, or ours.
current_state() {
  local owner
  owner=$(cat "$OWNER_FILE" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$STATE" ] && owner_alive "$owner"; then
    echo "$owner"
  else
    echo "$STATE"
  fi
}

# A state directory is alive while one of the daemons it started runs.
owner_alive() {
  alive "$1/ship2/dockerd.pid" dockerd || alive "$1/ship3/dockerd.pid" dockerd ||
    alive "$1/registry/registry.pid" registry || alive "$1/ssh/sshd.pid" sshd ||
    alive "$1/podman/service-tcp.pid" podman || alive "$1/podman/service-unix.pid" podman
}

# Serialises concurrent up/down runs on this machine.
take_lock() {
  mkdir -p "$RUNDIR"
  exec 9>"$LOCK_FILE"
  flock -w 600 9 || { echo "testbed: another up/down holds $LOCK_FILE" >&2; exit 1; }
}
