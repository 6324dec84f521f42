#!/usr/bin/env bash
# npm run test:compose: docker-compose.yml for real, here, without an image registry. In a Docker
# engine of its own (scripts/docker-engine.sh: started here, stopped by PID at the end, images kept
# in /var/cache/orderstream/docker between runs) it makes the base images from Debian packages
# (scripts/container-images.sh), builds the product image from this host's install and build
# (scripts/product-image.sh) and checks its size and contents (scripts/image-size-check.mjs: a
# failure stops the run here), then runs test/compose with Debian's docker-compose (v1): the whole
# stack up, checks from outside through published loopback ports, faults between containers, the
# sentinel profile, `docker-compose down -v`. Figures: printed, and written to
# bench/results/compose-last.json (ORDERSTREAM_COMPOSE_REPORT).
# Usage: bash scripts/compose-test.sh   (as root, after npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != --in-engine ]; then exec bash scripts/docker-engine.sh bash "$0" --in-engine; fi

start=$SECONDS
export ORDERSTREAM_COMPOSE_REPORT="${ORDERSTREAM_COMPOSE_REPORT:-$PWD/bench/results/compose-last.json}"
export ORDERSTREAM_IMAGE=orderstream:compose
rm -f "$ORDERSTREAM_COMPOSE_REPORT"
bash scripts/container-images.sh
bash scripts/product-image.sh "$ORDERSTREAM_IMAGE"
# Its size against the budget and nothing but the services' runtime inside (a few seconds).
node scripts/image-size-check.mjs "$ORDERSTREAM_IMAGE"
images=$((SECONDS - start))
set +e
node node_modules/vitest/vitest.mjs run --config test/compose/vitest.config.ts
code=$?
set -e
node -e '
  const fs = require("node:fs");
  const [file, images, total] = process.argv.slice(1);
  const r = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
  r.run = { imagesSeconds: Number(images), totalSeconds: Number(total) };
  fs.writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
  console.log("compose-test figures (" + file + "):\n" + JSON.stringify(r));
' "$ORDERSTREAM_COMPOSE_REPORT" "$images" "$((SECONDS - start))"
exit "$code"
