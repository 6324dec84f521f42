# syntax=docker/dockerfile:1
# One image for every orderstream service; the command picks the service:
#   node services/edge/dist/main.js        (default)
#   node services/order-api/dist/main.js
#   node services/processor/dist/main.js
# Node 24 on Debian 13 (trixie) slim on purpose: the uWebSockets.js binaries for Node 22+ need
# glibc >= 2.38 (trixie has 2.41; bookworm's 2.36 is too old), and none load on musl/Alpine.
# Build: docker build -t orderstream:dev .     Details: docs/deployment.md
# Without a registry (npm ci cannot run in a build here): the `prebuilt` target, from a context
# installed and built on the host by scripts/product-image.sh.
ARG NODE_IMAGE=node:24-trixie-slim

# ---- base: the runtime settings every image of the services shares ----
FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production
WORKDIR /app
# Numeric non-root user (the image's `node` user), so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# edge (WebSocket + /healthz /readyz /metrics), order-api (gRPC), processor (/healthz /readyz /metrics)
EXPOSE 9001 50051 9100
# Finds the service from the running command line and probes it (HTTP /healthz or gRPC health).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "scripts/healthcheck.mjs"]
STOPSIGNAL SIGTERM
CMD ["node", "services/edge/dist/main.js"]

# ---- prebuilt: the image from a context installed and built on the host ----
# scripts/product-image.sh makes the context: prebuilt-deps/ (the root package.json, the lock, the
# runtime workspaces' package.json and the services' production node_modules, this platform's
# uWebSockets.js binary only) and prebuilt-app/ (each runtime workspace's package.json and dist,
# proto/, the health probe), then runs `docker build --target prebuilt -f Dockerfile <context>`.
# The dependencies are a layer of their own: a source change rebuilds only the small app layer.
# `package.json` keeps both COPYs valid in the repository's context too (the classic builder
# builds every stage before its target, so this one as well; there it copies package.json alone).
FROM base AS prebuilt
COPY package.json prebuilt-deps* ./
COPY package.json prebuilt-app* ./

# ---- deps: the services' production dependencies only, from the manifests alone ----
# The runtime workspaces (scripts/runtime-workspaces.mjs: the three services and the packages they
# import; test/deploy/image.test.ts checks both lists here against it), never testkit, client or
# loadgen: npm marks a package dev or not over every workspace whose manifest it finds, so with
# loadgen's present the edge's dev dependency ws (loadgen's runtime one) would come along, even
# with --omit=dev and --workspace.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/proto/package.json packages/proto/
COPY packages/wire/package.json packages/wire/
COPY packages/workflow/package.json packages/workflow/
COPY packages/domain/package.json packages/domain/
COPY packages/auth/package.json packages/auth/
COPY packages/bus/package.json packages/bus/
COPY services/order-api/package.json services/order-api/
COPY services/processor/package.json services/processor/
COPY services/edge/package.json services/edge/
# The uWebSockets.js package ships binaries for every platform and Node ABI (~40 MB); keep this
# one's only, and check it loads natively. --omit=optional drops the Node-20-on-old-glibc build.
# Then what no service loads at run time (~19 MB): TypeScript sources and declarations, source
# maps, Markdown (licences kept); scripts/product-image.sh deletes the same.
RUN npm ci --omit=dev --omit=optional --workspace services/edge --workspace services/order-api --workspace services/processor --no-audit --no-fund \
 && uws="$(dirname "$(node -p 'require.resolve("uWebSockets.js", { paths: ["services/edge"] })')")" \
 && keep="uws_$(node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules').node" \
 && find "$uws" -name 'uws_*.node' ! -name "$keep" -delete \
 && test -f "$uws/$keep" \
 && node -e 'const u = require(process.argv[1]); if (!String(u.App).includes("[native code]")) process.exit(1)' "$uws/uws.js" \
 && find . -path '*/node_modules/*' -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.md' \) ! -iname 'licen[cs]e*' -delete \
 && npm cache clean --force

# ---- build: full install (TypeScript and friends), compile every project ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Every workspace's package.json (test/deploy/image.test.ts checks this list against package.json).
COPY packages/proto/package.json packages/proto/
COPY packages/wire/package.json packages/wire/
COPY packages/domain/package.json packages/domain/
COPY packages/auth/package.json packages/auth/
COPY packages/bus/package.json packages/bus/
COPY packages/testkit/package.json packages/testkit/
COPY packages/workflow/package.json packages/workflow/
COPY packages/client/package.json packages/client/
COPY packages/loadgen/package.json packages/loadgen/
COPY services/order-api/package.json services/order-api/
COPY services/processor/package.json services/processor/
COPY services/edge/package.json services/edge/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.base.json ./
COPY proto ./proto
COPY packages ./packages
COPY services ./services
# The commit `--version` and orderstream_build_info report (the context has no .git):
#   docker build --build-arg ORDERSTREAM_COMMIT="$(git rev-parse HEAD)" .
ARG ORDERSTREAM_COMMIT=unknown
RUN npm run build \
 && rm -rf packages/*/node_modules services/*/node_modules \
 && find packages services -name '*.tsbuildinfo' -delete \
 && find packages services -path '*/dist/*' \( -name '*.test.js' -o -name '*.test.d.ts' -o -name '*.test.js.map' -o -name '*.test.d.ts.map' \) -delete

# ---- runtime: the services, the packages they import and their production dependencies ----
FROM base AS runtime
# Production node_modules (and the edge's own, uWebSockets.js) from the deps stage ...
COPY --from=deps /app /app
# ... then each runtime workspace compiled (package.json + dist + any assets beside src), the
# .proto contract (gRPC reflection loads it at run time) and the health probe.
COPY --from=build /app/packages/proto /app/packages/proto
COPY --from=build /app/packages/wire /app/packages/wire
COPY --from=build /app/packages/workflow /app/packages/workflow
COPY --from=build /app/packages/domain /app/packages/domain
COPY --from=build /app/packages/auth /app/packages/auth
COPY --from=build /app/packages/bus /app/packages/bus
COPY --from=build /app/services/order-api /app/services/order-api
COPY --from=build /app/services/processor /app/services/processor
COPY --from=build /app/services/edge /app/services/edge
COPY --from=build /app/proto /app/proto
COPY scripts/healthcheck.mjs /app/scripts/healthcheck.mjs
