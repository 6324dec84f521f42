import { fileURLToPath } from "node:url";
import { Partitioning, channelHistoryLength } from "@orderstream/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { type ServiceProcess, type TestRedis, startRedis, startService, waitUntil } from "@orderstream/testkit";
import { OrderStatus } from "@orderstream/proto";
import { FULL_LIFECYCLE, orderApiLike, statusEvents } from "./processor.fixture.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const ORDERS = 300;

let redis: TestRedis;
let client: Redis;
let api: Awaited<ReturnType<typeof orderApiLike>>;
const children: ServiceProcess[] = [];

function processor(name: string): ServiceProcess {
  const svc = startService(
    MAIN,
    {
      REDIS_URL: redis.url,
      HEALTH_PORT: "0",
      LOG_LEVEL: "info",
      PROCESSOR_CONCURRENCY: "20",
      SHIP_DELAY_MS: "400",
      DELIVER_DELAY_MS: "400",
      HISTORY_SIZE: "100000",
      DUE_SWEEP_INTERVAL_MS: "200",
      DUE_GRACE_MS: "500",
      // Short locks so the jobs the killed process held are found stalled within seconds.
      JOB_LOCK_MS: "1500",
      STALLED_INTERVAL_MS: "500",
    },
    name,
  );
  children.push(svc);
  return svc;
}

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  api = await orderApiLike(redis.url);
});

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop("SIGKILL")));
  await api.close();
  await redis.stop();
});

describe("processor crash", () => {
  it("a SIGKILLed processor's orders all reach DELIVERED after a restart, with no duplicate event", async () => {
    const first = processor("processor-1");
    await first.waitFor(/"msg":"ready"/);
    const ids = await api.create(ORDERS);
    // Half the orders are queued now; the other half have only their due entry (order-api "died").
    await api.enqueue(ids.slice(0, ORDERS / 2));
    // Kill it mid-flight: some orders confirmed, others waiting, others delayed or active.
    // (Jobs carry batches of orders, and sit delayed between steps: wait for one being worked on.)
    await waitUntil(
      async () => (await channelHistoryLength(client, "orders.status", new Partitioning())) >= ORDERS / 4 && ((await api.jobCounts("active")).active ?? 0) > 0,
      "some transitions, and a job active",
      15_000,
      2,
    );
    first.proc.kill("SIGKILL");
    expect(await first.exited).toBe(null);
    // The killed process held jobs in the middle of being processed: they must be recovered as stalled.
    expect((await api.jobCounts("active")).active).toBeGreaterThan(0);
    const before = await statusEvents(client);
    expect(before.filter((e) => e.status === "DELIVERED").length).toBeLessThan(ORDERS);

    const second = processor("processor-2");
    await second.waitFor(/"msg":"ready"/);
    await waitUntil(
      async () => {
        const delivered = (await statusEvents(client)).filter((e) => e.status === "DELIVERED").length;
        return delivered >= ORDERS;
      },
      "every order DELIVERED",
      30_000,
      100,
    );

    const counts = new Map<string, number>();
    for (const e of await statusEvents(client)) {
      const key = `${e.orderId} ${e.status}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const duplicates = [...counts].filter(([, n]) => n !== 1);
    expect(duplicates).toEqual([]);
    for (const id of ids) {
      for (const status of FULL_LIFECYCLE) expect(counts.get(`${id} ${status}`), `${id} ${status}`).toBe(1);
      expect((await api.store.get(id))?.status).toBe(OrderStatus.DELIVERED);
    }
    expect(await second.stop("SIGTERM")).toBe(0);
    expect(second.output()).toContain('"msg":"processor stopped"');
  });
});
