#!/usr/bin/env bash
# Builds the orderstream image from a context installed and built on this host, for engines whose
# builds cannot reach the npm registry (an `npm ci` inside a container build fails here: the
# registry's certificate is not trusted there). Dockerfile's `prebuilt` target, in two layers, of
# the runtime workspaces only (scripts/runtime-workspaces.mjs: the three services and the packages
# they import; not testkit, client or loadgen):
#   prebuilt-deps/  the root package.json, the lock, the runtime workspaces' package.json and their
#                   production node_modules (`npm ci --omit=dev --omit=optional --workspace` each
#                   service; only the image's own uWebSockets.js binary; no .ts, .map or .md
#                   files); installed again only when one of those manifests, the lock or the
#                   image's Node ABI changes
#   prebuilt-app/   each runtime workspace as the Dockerfile's build stage leaves it (dist and the
#                   assets beside src, no node_modules or compiled tests), proto/, the probe
# The context is kept in a cache folder, so an unchanged layer is the engine's cached one. Then
# checks that the uWebSockets.js binary loads natively in the image.
#
# Usage: scripts/product-image.sh [tag]   (default orderstream:compose; DOCKER_HOST set; after
# `npm run build`). The base image node:24-trixie-slim must exist (scripts/container-images.sh).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd -P)"
tag="${1:-orderstream:compose}"
ctx="${ORDERSTREAM_IMAGE_CONTEXT:-/var/cache/orderstream/image-context}"
base=node:24-trixie-slim

say() { printf 'product-image: %s\n' "$*"; }
die() { printf 'product-image: %s\n' "$*" >&2; exit 1; }

[ -n "${DOCKER_HOST:-}" ] || die "DOCKER_HOST is not set (run it through scripts/docker-engine.sh)"
mapfile -t workspaces < <(node "$repo/scripts/runtime-workspaces.mjs")
mapfile -t services < <(node "$repo/scripts/runtime-workspaces.mjs" --services)
[ "${#workspaces[@]}" -gt 0 ] && [ "${#services[@]}" -gt 0 ] || die "scripts/runtime-workspaces.mjs listed no workspaces"
for ws in "${workspaces[@]}"; do
  [ -f "$repo/$ws/dist/main.js" ] || [ -f "$repo/$ws/dist/index.js" ] || die "$ws/dist is missing: run npm run build first"
done
mkdir -p "$ctx"
exec 6>"$ctx.lock"
flock -w 900 6 || die "gave up waiting for $ctx.lock"
start=$SECONDS

# ---- prebuilt-deps: production dependencies, keyed by the manifests and the image's Node ----
abi="$(docker run --rm --network none "$base" node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules')"
manifests=(package.json package-lock.json)
for ws in "${workspaces[@]}"; do manifests+=("$ws/package.json"); done
key="$( (cd "$repo" && sha256sum "${manifests[@]}"; echo "$abi omit=dev,optional ${services[*]} v2") | sha256sum | cut -c1-16)"
if [ "$(cat "$ctx/prebuilt-deps.key" 2>/dev/null)" != "$key" ]; then
  say "installing the services' production dependencies for $abi (npm ci --omit=dev --omit=optional --workspace ${services[*]})"
  rm -rf "$ctx/prebuilt-deps" "$ctx/prebuilt-deps.new" "$ctx/prebuilt-deps.key"
  # Only the runtime workspaces' manifests: npm marks a package dev or not over every workspace it
  # finds, so with loadgen's manifest present the edge's dev dependency ws (loadgen's runtime
  # one) would be installed too, --omit=dev and --workspace notwithstanding.
  for f in "${manifests[@]}"; do install -D -m 644 "$repo/$f" "$ctx/prebuilt-deps.new/$f"; done
  ws_args=()
  for ws in "${services[@]}"; do ws_args+=(--workspace "$ws"); done
  (cd "$ctx/prebuilt-deps.new" && npm ci --omit=dev --omit=optional "${ws_args[@]}" --no-audit --no-fund --loglevel=error)
  # The uWebSockets.js package ships every platform's and Node ABI's binary (~40 MB): keep one.
  found="$(find "$ctx/prebuilt-deps.new" -name "uws_$abi.node" | head -1)"
  [ -n "$found" ] || die "no uWebSockets.js binary uws_$abi.node in the production dependencies"
  find "$ctx/prebuilt-deps.new" -name 'uws_*.node' ! -name "uws_$abi.node" -delete
  # What no service loads at run time (~19 MB): TypeScript sources and declarations, source maps,
  # Markdown (licences kept). The Dockerfile's deps stage deletes the same.
  find "$ctx/prebuilt-deps.new" -path '*/node_modules/*' -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.md' \) ! -iname 'licen[cs]e*' -delete
  mv "$ctx/prebuilt-deps.new" "$ctx/prebuilt-deps"
  echo "$key" >"$ctx/prebuilt-deps.key"
fi

# ---- prebuilt-app: the runtime workspaces as the Dockerfile's build stage leaves them ----
# Each runtime workspace whole (dist, and assets beside src that the code loads at run time: Lua scripts,
# JSON Schemas) without node_modules, build info or compiled tests; proto/; the health probe.
rm -rf "$ctx/prebuilt-app"
mkdir -p "$ctx/prebuilt-app/scripts"
(cd "$repo" && tar -c --exclude=node_modules --exclude='*.tsbuildinfo' --exclude=coverage --exclude=.tmp \
  --exclude='dist/*.test.js' --exclude='dist/*.test.d.ts' --exclude='dist/*.test.js.map' --exclude='dist/*.test.d.ts.map' \
  "${workspaces[@]}" proto) | tar -C "$ctx/prebuilt-app" -x
cp "$repo/scripts/healthcheck.mjs" "$ctx/prebuilt-app/scripts/"
cp "$repo/package.json" "$ctx/package.json"

# ---- the image ----
say "building $tag (Dockerfile target prebuilt, context $ctx)"
DOCKER_BUILDKIT=0 docker build -q --target prebuilt -f "$repo/Dockerfile" -t "$tag" "$ctx" >/dev/null
docker run --rm --network none "$tag" node -e '
  const u = require(require.resolve("uWebSockets.js", { paths: ["services/edge"] }));
  if (!String(u.App).includes("[native code]")) { console.error("uWebSockets.js is not the native build"); process.exit(1); }'
dangling="$(docker images -q -f dangling=true)"
# shellcheck disable=SC2086
[ -z "$dangling" ] || docker rmi $dangling >/dev/null 2>&1 || true
say "$tag built in $((SECONDS - start)) s: $(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%d MB", $1 / 1e6}'), uWebSockets.js loads natively"
