import { execFile } from "node:child_process";
import { join } from "node:path";
import { type ServiceProcess, type TestRedis, freePort, serviceEntry, signToken, startRedis, startService } from "@orderstream/testkit";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, composeServiceEnv, deploymentEnv, readCompose, renderKustomization } from "../../scripts/check-deploy.mjs";
import { clusterRoundTrip } from "../../scripts/compose-smoke.mjs";

// The real services, started as processes with exactly the environment docker-compose.yml or a
// k8s overlay gives them; only what a container network provides is replaced: Redis' address,
// the ports (free ones on 127.0.0.1) and the order-api address the edge dials.

type Env = Record<string, string>;
const READY = /"msg":"ready"/;

interface Cluster {
  edgePort: number;
  apiPort: number;
  healthPort: number;
  procs: ServiceProcess[];
}

/** Every process started here, so a failed start-up still stops what did start. */
const started: ServiceProcess[] = [];

async function startCluster(redis: TestRedis, envOf: (svc: string) => Env, overrides: Env = {}): Promise<Cluster> {
  const [apiPort, edgePort, healthPort] = [await freePort(), await freePort(), await freePort()];
  const local = { REDIS_URL: redis.url, ...overrides };
  const procs: ServiceProcess[] = [];
  const start = async (svc: "order-api" | "processor" | "edge", env: Env): Promise<void> => {
    const p = startService(serviceEntry(svc), { ...envOf(svc), ...local, ...env }, svc);
    procs.push(p);
    started.push(p);
    await p.waitFor(READY, 20_000);
  };
  await start("order-api", { GRPC_HOST: "127.0.0.1", GRPC_PORT: String(apiPort), METRICS_PORT: "0" });
  await start("processor", { HEALTH_PORT: String(healthPort) });
  await start("edge", { EDGE_HOST: "127.0.0.1", EDGE_PORT: String(edgePort), ORDER_API_URL: `127.0.0.1:${apiPort}` });
  return { edgePort, apiPort, healthPort, procs };
}

async function stopAll(): Promise<void> {
  for (const p of started.splice(0).reverse()) await p.stop("SIGTERM", 30_000);
}

function healthcheck(svc: string, env: Env): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, "scripts/healthcheck.mjs"), svc], { env: { ...process.env, ...env }, timeout: 10_000 }, (err) =>
      resolve(err ? (typeof err.code === "number" ? err.code : -1) : 0),
    );
  });
}

/**
 * What the edge answers a subscribe to the all-orders channel, sent after a `connect` with
 * `token` (protocol v1) or as the first frame: the answer frame, or the close code.
 */
function subscribeAnswer(url: string, token?: string): Promise<{ type: string; error?: { code: string }; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const t = setTimeout(() => reject(new Error("no answer to subscribe")), 10_000);
    ws.on("error", reject);
    ws.on("open", () => {
      if (token) ws.send(JSON.stringify({ type: "connect", token }));
      ws.send(JSON.stringify({ type: "subscribe", channels: ["orders.created"] }));
    });
    ws.on("close", (code) => {
      clearTimeout(t);
      resolve({ type: "close", closeCode: code });
    });
    ws.on("message", (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; error?: { code: string } };
      if (frame.type === "connected") return;
      clearTimeout(t);
      ws.terminate();
      resolve(frame);
    });
  });
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await stopAll();
  await redis?.stop();
});

describe("docker-compose.yml environment", () => {
  let c: Cluster | undefined;
  const compose = readCompose();
  beforeAll(async () => {
    c = await startCluster(redis, (svc) => composeServiceEnv(compose, svc));
  });
  afterAll(stopAll);

  it("every service passes the image's healthcheck on the ports its variables name", async () => {
    expect(await healthcheck("order-api", { GRPC_PORT: String(c?.apiPort) })).toBe(0);
    expect(await healthcheck("processor", { HEALTH_PORT: String(c?.healthPort) })).toBe(0);
    expect(await healthcheck("edge", { EDGE_PORT: String(c?.edgePort) })).toBe(0);
  });

  it("is a working cluster: an order created over gRPC reaches an anonymous WebSocket subscriber", async () => {
    const r = await clusterRoundTrip({ wsUrl: `ws://127.0.0.1:${c?.edgePort}/ws`, grpcAddress: `127.0.0.1:${c?.apiPort}` });
    expect(r.created).toBe(true);
    expect(r.statuses.length).toBeGreaterThan(0);
  });
});

describe("k8s production overlay environment", () => {
  let c: Cluster | undefined;
  const secret = "production-test-secret";
  beforeAll(async () => {
    const objects = renderKustomization(join(ROOT, "k8s/overlays/production"));
    c = await startCluster(redis, (svc) => deploymentEnv(objects, svc), { AUTH_JWT_SECRET: secret });
  });
  afterAll(stopAll);

  it("refuses anonymous sockets and users on the all-orders channels and admits an admin token", async () => {
    // Anonymous access off: a first frame other than `connect` closes the socket with 4001.
    const anon = await subscribeAnswer(`ws://127.0.0.1:${c?.edgePort}/ws`);
    expect(anon.closeCode).toBe(4001);
    const user = await subscribeAnswer(`ws://127.0.0.1:${c?.edgePort}/ws`, signToken(secret, { sub: "alice" }));
    expect(user.type === "error" ? user.error?.code : user.type).toBe("forbidden");
    const admin = await subscribeAnswer(`ws://127.0.0.1:${c?.edgePort}/ws`, signToken(secret, { sub: "ops", admin: true }));
    expect(admin.type).toBe("subscribed");
  });
});
