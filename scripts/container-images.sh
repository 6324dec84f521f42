#!/usr/bin/env bash
# Makes, without an image registry, the images that Dockerfile and docker-compose.yml start from,
# in the engine at $DOCKER_HOST (scripts/docker-engine.sh provides one):
#   node:24-trixie-slim  the Debian 13 root with Node 24 of scripts/node24-root.sh (built there
#                        once, cached), plus /usr/local/bin/node and the user node (1000:1000)
#   redis:7              Debian 12's redis-server and redis-sentinel (7.0), with the official
#                        image's entrypoint behaviour: `--protected-mode no`, runs as redis, /data
#   haproxy:2.8          Debian 12's haproxy, the official image's config path
#                        /usr/local/etc/haproxy/haproxy.cfg, `-W -db`, runs as haproxy (stopped
#                        with SIGTERM: `docker import` cannot set STOPSIGNAL)
# The last two come from one debootstrap root (cached like the Node 24 root). Each image carries
# the hash of its recipe (this file and its root's stamp) in the label org.orderstream.recipe and
# is remade only when that changes. An image of the same name that is not a stand-in (pulled from
# a registry) is left alone.
#
# Usage: scripts/container-images.sh   (as root, with DOCKER_HOST set)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd -P)"
cache="${ORDERSTREAM_IMAGES_CACHE:-/var/cache/orderstream/images}"
node_root="${ORDERSTREAM_NODE24_ROOT:-/var/cache/orderstream/trixie-root}"
services_root="$cache/bookworm-root"
# Bump when the services root's package list changes: a root with another stamp is rebuilt.
services_recipe="bookworm minbase +redis-server +redis-sentinel +haproxy v1"
label=org.orderstream.recipe

say() { printf 'container-images: %s\n' "$*"; }
die() { printf 'container-images: %s\n' "$*" >&2; exit 1; }

[ -n "${DOCKER_HOST:-}" ] || die "DOCKER_HOST is not set (run it through scripts/docker-engine.sh)"
mkdir -p "$cache"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Tar options shared by every image: no docs, manuals, apt lists or caches, nothing of a mount point.
slim=(--exclude=./usr/share/doc/* --exclude=./usr/share/man/* --exclude=./usr/share/info/*
  --exclude=./usr/share/locale/* --exclude=./var/cache/apt/* --exclude=./var/lib/apt/lists/*
  --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* --exclude=./tmp/* --exclude=./run/*
  --exclude=./.orderstream-root)

# ---- the roots ----
bash "$repo/scripts/node24-root.sh" --prepare-only

exec 7>"$services_root.lock"
flock -w 900 7 || die "gave up waiting for $services_root.lock"
if [ "$(cat "$services_root/.orderstream-root" 2>/dev/null)" != "$services_recipe" ]; then
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
  say "building the Debian 12 root for the redis and haproxy stand-ins in $services_root (once)"
  rm -rf "$services_root" "$services_root.new"
  if ! debootstrap --variant=minbase --include=redis-server,redis-sentinel,haproxy bookworm \
    "$services_root.new" >"$services_root.debootstrap.log" 2>&1; then
    tail -20 "$services_root.debootstrap.log" >&2
    rm -rf "$services_root.new"
    die "debootstrap failed (log: $services_root.debootstrap.log)"
  fi
  echo "$services_recipe" >"$services_root.new/.orderstream-root"
  mv "$services_root.new" "$services_root"
fi

# ---- importing ----
recipe_hash() { { cat "$0"; printf '%s\n' "$@"; } | sha256sum | cut -c1-16; }

# current TAG HASH: true when TAG is our stand-in of that recipe, or an image not made here.
current() {
  local have
  have="$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null)" || return 1
  if [ "$have" = "<no value>" ] || [ -z "$have" ]; then say "$1 exists and is not a stand-in: kept"; return 0; fi
  [ "$have" = "$2" ]
}

# import TAG HASH ROOT OVERLAY CHANGE…: one tar of ROOT plus the files under OVERLAY (same owners).
import() {
  local tag=$1 hash=$2 root=$3 overlay=$4 start=$SECONDS
  shift 4
  local changes=(--change "LABEL $label=$hash")
  for c in "$@"; do changes+=(--change "$c"); done
  local extra replaced=()
  mapfile -t extra < <(cd "$overlay" && find . -mindepth 1 ! -type d | sed 's|^\./||')
  # An overlay file replaces the root's: docker import refuses a path twice in one tar.
  for f in "${extra[@]}"; do replaced+=("--exclude=./$f"); done
  local old
  old="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  tar -C "$root" --numeric-owner "${slim[@]}" "${replaced[@]}" -c . -C "$overlay" "${extra[@]}" |
    docker import "${changes[@]}" - "$tag" >/dev/null
  # The image this one replaces, unless something still uses it.
  if [ -n "$old" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
  say "$tag made in $((SECONDS - start)) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%d MB", $1 / 1e6}'))"
}

# node:24-trixie-slim
node_version="$(chroot "$node_root" /opt/node24/bin/node --version)"
hash="$(recipe_hash node "$(cat "$node_root/.orderstream-root")" "$node_version")"
if ! current node:24-trixie-slim "$hash"; then
  o="$tmp/node"
  mkdir -p "$o/etc" "$o/usr/local/bin"
  ln -s /opt/node24/bin/node "$o/usr/local/bin/node"
  { grep -v '^node:' "$node_root/etc/passwd"; echo 'node:x:1000:1000::/home/node:/bin/sh'; } >"$o/etc/passwd"
  { grep -v '^node:' "$node_root/etc/group"; echo 'node:x:1000:'; } >"$o/etc/group"
  chmod 644 "$o/etc/passwd" "$o/etc/group"
  import node:24-trixie-slim "$hash" "$node_root" "$o" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION='"${node_version#v}" \
    'CMD ["node"]'
fi

# redis:7 (also the sentinels: the compose file runs redis-sentinel in it)
hash="$(recipe_hash redis "$services_recipe")"
if ! current redis:7 "$hash"; then
  o="$tmp/redis"
  mkdir -p "$o/usr/local/bin" "$o/data"
  cat >"$o/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for the official redis image's entrypoint (the parts docker-compose.yml relies on).
set -e
# `-option …` or `x.conf …` alone means redis-server with them.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "$1" = redis-server ]; then
  # Like the official image: protected mode off unless a config file sets it.
  if [ -f "${2:-}" ] && grep -q '^protected-mode' "$2"; then :; else
    shift
    if [ -f "${1:-}" ]; then conf=$1; shift; set -- "$conf" --protected-mode no "$@"; else set -- --protected-mode no "$@"; fi
    set -- redis-server "$@"
  fi
fi
exec "$@"
EOF
  chmod 755 "$o/usr/local/bin/docker-entrypoint.sh"
  import redis:7 "$hash" "$services_root" "$o" \
    'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]'
fi

# haproxy:2.8
hash="$(recipe_hash haproxy "$services_recipe")"
if ! current haproxy:2.8 "$hash"; then
  o="$tmp/haproxy"
  mkdir -p "$o/usr/local/bin" "$o/usr/local/etc/haproxy"
  cp "$services_root/etc/haproxy/haproxy.cfg" "$o/usr/local/etc/haproxy/haproxy.cfg"
  cat >"$o/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for the official haproxy image's entrypoint: master-worker, in the foreground.
set -e
if [ "${1#-}" != "$1" ]; then set -- haproxy "$@"; fi
if [ "$1" = haproxy ]; then shift; set -- haproxy -W -db "$@"; fi
exec "$@"
EOF
  chmod 755 "$o/usr/local/bin/docker-entrypoint.sh"
  import haproxy:2.8 "$hash" "$services_root" "$o" \
    'USER haproxy' 'WORKDIR /var/lib/haproxy' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'
fi
say "base images: $(docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(node:24-trixie-slim|redis:7|haproxy:2.8) ' | tr '\n' ';' | sed 's/;$//; s/;/, /g')"
