// The compose load balancer's config (k8s/compose/haproxy.cfg) against the compose files: a
// draining edge leaves the pool only once its own staggered drain is over, an edge that leaves
// the pool has the sockets still open through it closed (so its clients move), and the
// low-limits override's connection limit fits its open-file limit.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, readCompose } from "../../scripts/check-deploy.mjs";

const cfg = readFileSync(join(ROOT, "k8s/compose/haproxy.cfg"), "utf8");
const defaultServer = /^\s*default-server (.*)$/m.exec(cfg)?.[1] ?? "";

/** An HAProxy time ("2s", "500ms", "1000") in milliseconds. */
function haproxyMs(value: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(value);
  if (!m) throw new Error(`not an HAProxy time: ${value}`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? "ms"] ?? 1);
}

describe("k8s/compose/haproxy.cfg with docker-compose.yml", () => {
  it("closes the sockets of an edge that leaves the pool, but marks a draining edge down only after its drain window", () => {
    expect(defaultServer).toContain("on-marked-down shutdown-sessions");
    const inter = haproxyMs(/\binter (\S+)/.exec(defaultServer)?.[1] ?? "");
    const fall = Number(/\bfall (\d+)/.exec(defaultServer)?.[1]);
    const drainMs = Number(readCompose().services.edge.environment.DRAIN_WINDOW_MS);
    expect(drainMs).toBeGreaterThan(0);
    expect(inter * fall).toBeGreaterThan(drainMs);
  });

  it("retries a new socket that an edge refuses (503) or cannot take on another edge", () => {
    expect(cfg).toMatch(/^\s*option redispatch\b/m);
    expect(cfg).toMatch(/^\s*retry-on .*\bconn-failure\b.*\b503\b/m);
  });

  it("the low-limits override: HAProxy's -n fits its open-file limit, the edge's limit fits a 20,000 hard limit", () => {
    const o = readCompose(join(ROOT, "k8s/compose/docker-compose.low-limits.yml"));
    const lb = o.services.lb;
    const n = Number(lb.command[lb.command.indexOf("-n") + 1]);
    // Two descriptors per proxied connection, plus listeners, checks and logs.
    expect(2 * n + 1000).toBeLessThanOrEqual(lb.ulimits.nofile.hard);
    expect(lb.command.slice(-2)).toEqual(["-f", "/usr/local/etc/haproxy/haproxy.cfg"]);
    for (const svc of ["lb", "edge"]) expect(o.services[svc].ulimits.nofile.hard, svc).toBeLessThanOrEqual(20_000);
  });
});
