// The compose load balancer's own config (k8s/compose/haproxy.cfg), run by a real haproxy in front
// of a real edge: its health check must mark the edge UP (an HTTP/1.0 check gets 505 from
// uWebSockets.js, which left every edge DOWN and every client with 503), and a WebSocket must
// reach the edge through it. Only the server line changes: the config's `server-template` names
// Docker's DNS, which does not exist outside a container network.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServiceProcess, type TestRedis, freePort, startCommand, startRedis, startService, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

const root = join(import.meta.dirname, "../..");
const hasHaproxy = (() => {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The compose config with its Docker-only parts pointed at one local edge; every check line kept. */
export function localHaproxyConfig(config: string, lbPort: number, edgePort: number): string {
  const out = config
    .replace(/^\s*#.*\n/gm, "")
    .replace(/^\s*maxconn \d+$/m, "    maxconn 1000")
    .replace(/^resolvers docker[\s\S]*?(?=^frontend )/m, "")
    .replace(/^\s*bind :9001$/m, `    bind 127.0.0.1:${lbPort}`)
    .replace(
      /^\s*default-server (.*)$/m,
      (_l, opts: string) => `    default-server ${opts.replace(/ resolvers docker| init-addr none| resolve-prefer ipv4/g, "")}`,
    )
    .replace(/^\s*server-template .*$/m, `    server edge1 127.0.0.1:${edgePort}`);
  if (out.includes("server-template") || out.includes("resolvers docker")) throw new Error("config not rewritten");
  return out;
}

describe.skipIf(!hasHaproxy && !process.env.CI)("k8s/compose/haproxy.cfg in front of a real edge", () => {
  let redis: TestRedis;
  let edge: ServiceProcess;
  let lb: ServiceProcess;
  let dir: string;
  let lbPort: number;
  let statsPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    const edgePort = await freePort();
    edge = startService(
      join(root, "services/edge/dist/main.js"),
      {
        REDIS_URL: redis.url,
        EDGE_PORT: String(edgePort),
        EDGE_HOST: "127.0.0.1",
        ANONYMOUS_ALL_ORDERS: "true",
        AUTH_JWT_SECRET: "haproxy-test-secret",
        METRICS_PORT: "0",
        LOG_LEVEL: "info",
      },
      "edge",
    );
    await edge.waitFor(/"msg":"ready"/);
    lbPort = await freePort();
    statsPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), "os-haproxy-"));
    const cfg = localHaproxyConfig(readFileSync(join(root, "k8s/compose/haproxy.cfg"), "utf8"), lbPort, edgePort);
    // The server's state is read from haproxy's stats page, on a port of its own.
    writeFileSync(
      join(dir, "haproxy.cfg"),
      `${cfg}\nlisten stats\n    bind 127.0.0.1:${statsPort}\n    stats enable\n    stats uri /stats\n`,
    );
    lb = startCommand("haproxy", ["-db", "-f", join(dir, "haproxy.cfg")]);
  }, 30_000);

  afterAll(async () => {
    await lb?.stop("SIGTERM", 3_000);
    await edge?.stop("SIGTERM", 5_000);
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("marks the edge UP with its /readyz check, and a WebSocket subscribes through the balancer", async () => {
    const state = async (): Promise<string> => {
      const csv = await fetch(`http://127.0.0.1:${statsPort}/stats;csv`).then(
        (r) => r.text(),
        () => "",
      );
      const row = csv.split("\n").find((l) => l.startsWith("edge_nodes,edge1,"));
      return row?.split(",")[17] ?? "missing";
    };
    await waitUntil(async () => (await state()) === "UP", `the edge UP in haproxy; output:\n${lb.output()}`, 15_000);
    const ws = new WebSocket(`ws://127.0.0.1:${lbPort}/ws`);
    const frames: string[] = [];
    ws.on("message", (d) => frames.push(String(d)));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send(JSON.stringify({ type: "subscribe", channels: ["orders.created"] }));
    await waitUntil(() => frames.some((f) => JSON.parse(f).type === "subscribed"), "subscribed through haproxy");
    ws.close();
    const res = await fetch(`http://127.0.0.1:${lbPort}/readyz`);
    expect(res.status).toBe(200);
  }, 30_000);
});
