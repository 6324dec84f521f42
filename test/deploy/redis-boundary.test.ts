import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Redis is reached through packages/bus only: its key names, scripts and connections live there.
// The services, the SDK and the load tool never import ioredis nor spell a key name.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SOURCES = ["services/order-api/src", "services/processor/src", "services/edge/src", "packages/client/src", "packages/loadgen/src", "packages/domain/src"];
const isProductionSource = (f: string): boolean =>
  f.endsWith(".ts") && !/\.test\.ts$|fixture|test-helper|\/testing\/|\/test-support\//.test(f);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("the Redis boundary", () => {
  const sources = SOURCES.flatMap((d) => files(join(ROOT, d))).filter(isProductionSource);

  it("finds the sources it checks", () => {
    expect(sources.length).toBeGreaterThan(50);
  });

  it("no service, SDK or tool source imports ioredis or bullmq's Redis, or spells an os: key", () => {
    const offenders: string[] = [];
    for (const f of sources) {
      const text = readFileSync(f, "utf8");
      if (/from\s+["']ioredis["']/.test(text)) offenders.push(`${relative(ROOT, f)}: imports ioredis`);
      if (/["'`]os:[a-z{]/.test(text)) offenders.push(`${relative(ROOT, f)}: spells a Redis key name`);
    }
    expect(offenders).toEqual([]);
  });
});
