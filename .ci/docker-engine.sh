#!/usr/bin/env bash
# Starts or stops a private Docker engine for the container tests (no systemd here: dockerd is run by hand).
#
#   eval "$(bash .ci/docker-engine.sh start)"   # installs docker.io + debootstrap if missing, starts dockerd,
#                                                # prints: export DOCKER_HOST=unix://DIR/docker.sock
#   bash .ci/docker-engine.sh stop              # removes every container of this engine, stops dockerd
#   bash .ci/docker-engine.sh status
#
# DIR is $BITSWEEP_DOCKER_DIR (default /tmp/bitsweep-docker): socket, pid file, data root (images survive a stop,
# so the base image is built once per machine), exec root and dockerd.log.
# dockerd changes host networking (a bridge, iptables rules) while it runs: always run stop when done.
# Progress goes to stderr; stdout carries only the export line, so `eval "$(... start)"` works.
set -euo pipefail

DIR="${BITSWEEP_DOCKER_DIR:-/tmp/bitsweep-docker}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/docker.pid"
START_TIMEOUT="${BITSWEEP_DOCKER_START_TIMEOUT:-90}"
export DOCKER_HOST="unix://$SOCK"

log() { echo "docker-engine: $*" >&2; }
die() { log "$*"; exit 1; }

engine_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/comm" 2>/dev/null || return 1
  echo "$pid"
}

engine_answers() { docker info >/dev/null 2>&1; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  ((${#missing[@]} == 0)) && return 0
  [[ "$(id -u)" -eq 0 ]] || die "needs root to install ${missing[*]} (apt-get)"
  log "installing ${missing[*]} from Debian (apt-get) ..."
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is not on PATH"
}

# dockerd enables IP forwarding, sets the FORWARD policy to DROP, adds iptables chains and a docker0 bridge, and
# leaves all of that behind when it exits. start records the host's state; stop puts it back.
save_host_network() {
  {
    echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo unknown)"
    echo "forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3; exit }')"
  } >"$DIR/host-network.before"
}

restore_host_network() {
  command -v iptables >/dev/null 2>&1 || return 0
  local table rule chain
  for table in filter nat; do
    # Delete every rule that mentions Docker's chains or bridges, then Docker's (now empty) chains.
    iptables -t "$table" -S 2>/dev/null | grep -E '^-A ' | grep -E 'DOCKER|docker0|br-[0-9a-f]{12}' \
      | while read -r rule; do
          # shellcheck disable=SC2086
          iptables -t "$table" ${rule/#-A/-D} 2>/dev/null || true
        done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  ip link delete docker0 2>/dev/null || true
  if [[ -f "$DIR/host-network.before" ]]; then
    local ip_forward forward_policy
    ip_forward="$(sed -n 's/^ip_forward=//p' "$DIR/host-network.before")"
    forward_policy="$(sed -n 's/^forward_policy=//p' "$DIR/host-network.before")"
    if [[ "$ip_forward" =~ ^[01]$ ]]; then echo "$ip_forward" >/proc/sys/net/ipv4/ip_forward 2>/dev/null || true; fi
    if [[ "$forward_policy" =~ ^(ACCEPT|DROP)$ ]]; then iptables -P FORWARD "$forward_policy" 2>/dev/null || true; fi
    rm -f "$DIR/host-network.before"
  fi
}

start() {
  install_packages
  mkdir -p "$DIR"
  if engine_pid >/dev/null && engine_answers; then
    log "already running (pid $(engine_pid)) at $SOCK"
    echo "export DOCKER_HOST=$DOCKER_HOST"
    return 0
  fi
  if engine_pid >/dev/null; then
    die "dockerd (pid $(engine_pid)) runs but does not answer on $SOCK; run '$0 stop' first"
  fi
  rm -f "$PIDFILE" "$SOCK"
  pgrep -x dockerd >/dev/null || save_host_network
  log "starting dockerd (log: $DIR/dockerd.log) ..."
  # setsid: dockerd must not get the caller's terminal signals; output to a file so the caller's pipes close.
  setsid dockerd -H "$DOCKER_HOST" --data-root "$DIR/root" --exec-root "$DIR/exec" --pidfile "$PIDFILE" \
    </dev/null >>"$DIR/dockerd.log" 2>&1 &
  local started=$SECONDS
  until engine_answers; do
    if (( SECONDS - started >= START_TIMEOUT )); then
      tail -n 40 "$DIR/dockerd.log" >&2 || true
      stop >/dev/null 2>&1 || true
      die "dockerd did not answer on $SOCK within ${START_TIMEOUT}s (log above: $DIR/dockerd.log)"
    fi
    if (( SECONDS - started > 3 )) && ! engine_pid >/dev/null && ! pgrep -f -- "--pidfile $PIDFILE" >/dev/null; then
      tail -n 40 "$DIR/dockerd.log" >&2 || true
      die "dockerd exited during start-up (log above: $DIR/dockerd.log)"
    fi
    sleep 0.5
  done
  log "dockerd up (pid $(engine_pid)) in $((SECONDS - started)) s; storage driver: $(docker info --format '{{.Driver}}' 2>/dev/null || echo '?')"
  echo "export DOCKER_HOST=$DOCKER_HOST"
}

stop() {
  local pid
  if ! pid="$(engine_pid)"; then
    log "not running"
    rm -f "$PIDFILE"
    pgrep -x dockerd >/dev/null || restore_host_network
    return 0
  fi
  if engine_answers; then
    local containers
    containers="$(docker ps -aq)"
    if [[ -n "$containers" ]]; then
      log "removing $(echo "$containers" | wc -l) container(s)"
      # shellcheck disable=SC2086
      docker rm -f $containers >/dev/null || log "some containers could not be removed"
    fi
    docker network prune -f >/dev/null 2>&1 || true
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd ignored TERM for 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  if pgrep -x dockerd >/dev/null; then
    log "another dockerd runs: host network settings left as they are"
  else
    restore_host_network
  fi
  log "stopped"
}

status() {
  if engine_pid >/dev/null && engine_answers; then
    echo "running (pid $(engine_pid)); export DOCKER_HOST=$DOCKER_HOST"
  else
    echo "not running"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
