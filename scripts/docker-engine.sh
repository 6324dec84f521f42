#!/usr/bin/env bash
# Runs a command against a Docker engine of its own: Debian's dockerd, started here and stopped by
# its PID at the end, whatever the command did. Its data root (images, layers, build cache) stays
# in a cache folder between runs, so warm runs build little; its exec root, socket, pidfile, log
# and CLI config live in a temporary folder that is removed at the end. No iptables rules, no NAT,
# no IP forwarding, no default bridge, no DNS server outside: networks come from an address pool of
# its own; ports published without an address bind 127.0.0.1 on the default bridge only, so the
# compose test names 127.0.0.1 in its published ports. Storage: overlay2, else fuse-overlayfs, else vfs (the first that starts).
# One engine per data root at a time (flock); a second run waits for the first.
#
# Usage: scripts/docker-engine.sh command …   (as root; the command gets DOCKER_HOST, DOCKER_CONFIG)
#   ORDERSTREAM_DOCKER_ROOT   data root (default /var/cache/orderstream/docker)
#   ORDERSTREAM_DOCKER_POOL   address pool (default base=10.213.0.0/16,size=24)
#   ORDERSTREAM_DOCKER_STORAGE  one storage driver to use instead of trying them in order
set -euo pipefail

data="${ORDERSTREAM_DOCKER_ROOT:-/var/cache/orderstream/docker}"
pool="${ORDERSTREAM_DOCKER_POOL:-base=10.213.0.0/16,size=24}"
read -r -a drivers <<<"${ORDERSTREAM_DOCKER_STORAGE:-overlay2 fuse-overlayfs vfs}"

say() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$#" -gt 0 ] || die "usage: scripts/docker-engine.sh command …"
[ "$(id -u)" = 0 ] || die "needs root (dockerd)"
command -v dockerd >/dev/null || die "dockerd not found: apt-get install docker.io docker-compose"

mkdir -p "$data"
exec 8>"$data.lock"
if ! flock -n 8; then
  say "another engine uses $data; waiting for it (at most 30 min)"
  flock -w 1800 8 || die "gave up waiting for $data.lock"
fi

tmp="$(mktemp -d /tmp/orderstream-docker.XXXXXX)"
pid=""
# Folders dockerd makes outside its roots when they are missing: removed again if it made them.
made_dirs=()
for d in /etc/docker /run/docker; do [ -e "$d" ] || made_dirs+=("$d"); done

mounted_below() { findmnt -rn -o TARGET | awk -v p="$1/" 'index($0 "/", p) == 1' | sort -r; }

stop_engine() {
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  local ids
  ids="$(timeout 30 docker ps -aq 2>/dev/null || true)"
  if [ -n "$ids" ]; then
    say "removing containers left in the engine: $(echo "$ids" | wc -l)"
    # shellcheck disable=SC2086
    timeout 90 docker rm -f -v $ids >/dev/null 2>&1 || true
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 120; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    say "dockerd ($pid) still running after 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  pid=""
}

cleanup() {
  local code=$? p m
  set +e
  stop_engine
  # The engine's own children (containerd, shims) name this run's temporary folder on their
  # command line; one that outlived dockerd is ended by its PID.
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$tmp/"; then
      say "ending leftover engine process ${p#/proc/}"
      kill -KILL "${p#/proc/}" 2>/dev/null
    fi
  done
  for m in $(mounted_below "$tmp") $(mounted_below "$data"); do umount "$m" 2>/dev/null || umount -l "$m"; done
  rm -rf --one-file-system "$tmp"
  for ((p = ${#made_dirs[@]} - 1; p >= 0; p--)); do
    m="${made_dirs[p]}"
    rm -f "$m/key.json"
    find "$m" -depth -type d -empty -delete 2>/dev/null
  done
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export DOCKER_HOST="unix://$tmp/docker.sock" DOCKER_CONFIG="$tmp/cli" DOCKER_BUILDKIT=0
mkdir -p "$tmp/exec" "$DOCKER_CONFIG"
# No /etc/docker/daemon.json: only the flags below count. The engine key stays with the data root.
printf '{ "deprecated-key-path": "%s/key.json" }\n' "$data" >"$tmp/daemon.json"

# DNS: containers have no route out, and Docker's DNS (20.10) does not answer a name it cannot
# forward, so a lookup of a name that is no container's (a killed container's) waits for the
# resolver's timeout, 2 x 5 s. Redis Sentinel resolves the killed primary's name synchronously:
# blocked that long it enters TILT mode and never fails over. A real resolver answers NXDOMAIN at
# once. With an explicit `ndots` Docker's DNS answers a one-label name (a compose service name)
# that is no container's at once, empty, instead of forwarding it.
start_engine() {
  local driver=$1 i
  dockerd --config-file "$tmp/daemon.json" --data-root "$data" --exec-root "$tmp/exec" \
    --pidfile "$tmp/dockerd.pid" --host "$DOCKER_HOST" --storage-driver "$driver" \
    --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false --bridge=none \
    --ip=127.0.0.1 --default-address-pool "$pool" --dns-opt ndots:1 --shutdown-timeout 10 \
    >"$tmp/dockerd.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 240; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      pid=""
      return 1
    fi
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  say "dockerd did not answer within 60 s"
  stop_engine
  return 1
}

started=""
for driver in "${drivers[@]}"; do
  if [ "$driver" = fuse-overlayfs ] && ! command -v fuse-overlayfs >/dev/null; then continue; fi
  if start_engine "$driver"; then started=$driver; break; fi
  say "storage driver $driver did not start: $(grep -m1 -iE 'level=(error|fatal)|failed' "$tmp/dockerd.log" | cut -c1-200)"
done
[ -n "$started" ] || { tail -20 "$tmp/dockerd.log" >&2; die "dockerd did not start with any of: ${drivers[*]}"; }
say "dockerd $(docker version --format '{{.Server.Version}}') pid $pid, storage $started, data root $data, pool $pool"

set +e
"$@"
code=$?
set -e
if [ "$code" != 0 ]; then say "command exited $code; last engine log lines:"; tail -5 "$tmp/dockerd.log" >&2; fi
exit "$code"
