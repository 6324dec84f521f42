// The data layout guard, as an operator meets it: each service started against a real Redis that
// holds 0.2.x data (written in the keys 0.2.x used) refuses to start, says what to do and writes
// nothing; against an empty Redis they start and record layout 3.
import { type ServiceProcess, type TestRedis, freePort, serviceEntry, startRedis, startService } from "@orderstream/testkit";
import { Partitioning, metaKey, partitionStream } from "@orderstream/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let redis: TestRedis;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const p of started) await p.stop("SIGTERM", 10_000);
  await redis?.stop();
});

async function start(svc: "order-api" | "processor" | "edge"): Promise<ServiceProcess> {
  const env: Record<string, string> = { REDIS_URL: redis.url, LOG_LEVEL: "info", AUTH_JWT_SECRET: "layout-test-secret" };
  if (svc === "order-api") Object.assign(env, { GRPC_HOST: "127.0.0.1", GRPC_PORT: String(await freePort()), METRICS_PORT: "0" });
  if (svc === "processor") env.HEALTH_PORT = "0";
  if (svc === "edge") Object.assign(env, { EDGE_HOST: "127.0.0.1", EDGE_PORT: String(await freePort()), ORDER_API_URL: "127.0.0.1:1" });
  const p = startService(serviceEntry(svc), env, svc);
  started.push(p);
  return p;
}

describe("the data layout guard", () => {
  it("every service refuses Redis holding 0.2.x data, naming what to do, and writes nothing", async () => {
    const r = redis.client();
    const tag = new Partitioning().tag(3);
    // What 0.2.x left behind: an all-orders partition stream's meta and history, a job outbox
    // entry, and a user channel tagged with its own name.
    await r.hset(metaKey(partitionStream("orders.created", tag)), "e", "old00000", "s", "1");
    await r.xadd(`os:hist:{${tag}}:orders.created`, "1-1", "f", "{}");
    await r.zadd(`os:{${tag}}:jobs`, 1, "batch-1");
    await r.hset("os:meta:{orders.user.alice}", "e", "old00001", "s", "1");
    const before = (await r.keys("*")).sort();
    for (const svc of ["order-api", "processor", "edge"] as const) {
      const p = await start(svc);
      expect(await p.exited, `${svc} exit code`).toBe(1);
      expect(p.output()).toContain("layout 2 (orderstream 0.2.x)");
      expect(p.output()).toContain("drain it");
    }
    expect((await r.keys("*")).sort()).toEqual(before);
    // A layout written by another version is refused the same way.
    await r.flushall();
    await r.set("os:layout", "4");
    const p = await start("order-api");
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain("layout 4");
    r.disconnect();
  }, 60_000);

  it("an empty Redis gets layout 3 and the services start", async () => {
    const r = redis.client();
    await r.flushall();
    for (const svc of ["order-api", "processor", "edge"] as const) await (await start(svc)).waitFor(/"msg":"ready"/, 20_000);
    expect(await r.get("os:layout")).toBe("3");
    r.disconnect();
  }, 60_000);
});
