import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { orderKey } from "@orderstream/bus";
import { statusName } from "@orderstream/domain";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { type Processor, startProcessor } from "./processor.js";
import { FULL_LIFECYCLE, orderApiLike, statusesByOrder, testConfig } from "./processor.fixture.js";

let redis: TestRedis;
let client: Redis;
let api: Awaited<ReturnType<typeof orderApiLike>>;
const started: Processor[] = [];

async function start(env: Record<string, string> = {}): Promise<Processor> {
  const p = await startProcessor(testConfig(redis.url, env));
  started.push(p);
  return p;
}

async function jobEnded(orderId: string): Promise<string> {
  const ended = await waitUntil(
    async () => {
      const job = await api.jobOf(orderId);
      if (!job || (await job.getState()) !== "completed") return undefined;
      // Read again: the job may have completed between the read above and getState().
      return String((await api.jobOf(orderId))?.returnvalue);
    },
    `job ${orderId} completed`,
    10_000,
  );
  return ended ?? "";
}

async function statusOf(orderId: string): Promise<string | undefined> {
  const order = await api.store.get(orderId);
  return order ? statusName(order.status) : undefined;
}

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  api = await orderApiLike(redis.url);
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
  await client.flushall();
});

afterAll(async () => {
  await api.close();
  await redis.stop();
});

describe("processor", () => {
  it("moves an order to DELIVERED with exactly one order.status event per transition", async () => {
    const p = await start();
    const [id] = await api.create(1);
    await api.enqueue([id!]);
    expect(await jobEnded(id!)).toBe("DELIVERED");
    const events = await statusesByOrder(client);
    expect(events.get(id!)).toEqual(FULL_LIFECYCLE);
    expect((await api.store.get(id!))?.status).toBeDefined();
    expect(await statusOf(id!)).toBe("DELIVERED");

    const ready = await fetch(`http://127.0.0.1:${p.healthPort}/readyz`);
    expect(ready.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${p.healthPort}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${p.healthPort}/metrics`)).text();
    expect(metrics).toContain('orderstream_processor_transitions_total{to="DELIVERED"} 1');
    expect(metrics).toContain('orderstream_processor_transitions_total{to="CONFIRMED"} 1');
  });

  it("stops at PROCESSING when SHIP_DELAY_MS=0", async () => {
    await start({ SHIP_DELAY_MS: "0" });
    const [id] = await api.create(1);
    await api.enqueue([id!]);
    expect(await jobEnded(id!)).toBe("stopped at PROCESSING");
    expect(await statusOf(id!)).toBe("PROCESSING");
    expect((await statusesByOrder(client)).get(id!)).toEqual(["CONFIRMED", "PROCESSING"]);
  });

  it("stops at SHIPPED when DELIVER_DELAY_MS=0", async () => {
    await start({ DELIVER_DELAY_MS: "0" });
    const [id] = await api.create(1);
    await api.enqueue([id!]);
    expect(await jobEnded(id!)).toBe("stopped at SHIPPED");
    expect((await statusesByOrder(client)).get(id!)).toEqual(["CONFIRMED", "PROCESSING", "SHIPPED"]);
  });

  it("queues again an order whose job is gone, once it is overdue, and never processes a queued order twice", async () => {
    const [stranded, queued] = await api.create(2);
    // `queued` got its job (as order-api does); `stranded` got none (an order-api that died, a job
    // lost with a failed-over primary): only its due entry, written with the order, remains.
    await api.enqueue([queued!]);
    expect(await api.dueAt(stranded!)).toBeDefined();
    const p = await start({ DUE_GRACE_MS: "200", SHIP_DELAY_MS: "300", DELIVER_DELAY_MS: "300" });
    // A second replica sweeping the same partitions at the same time must be harmless.
    const p2 = await start({ DUE_GRACE_MS: "200", SHIP_DELAY_MS: "300", DELIVER_DELAY_MS: "300" });
    expect(await jobEnded(queued!)).toBe("DELIVERED");
    // The stranded order's job is the sweep's (id `due-<order>-<due time>`).
    await waitUntil(async () => (await statusesByOrder(client)).get(stranded!)?.length === FULL_LIFECYCLE.length, "stranded order delivered", 10_000);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate job would add events meanwhile
    const events = await statusesByOrder(client);
    expect(events.get(stranded!)).toEqual(FULL_LIFECYCLE);
    expect(events.get(queued!)).toEqual(FULL_LIFECYCLE);
    // Delivered orders have nothing due.
    expect(await api.dueAt(stranded!)).toBeUndefined();
    expect(await api.dueAt(queued!)).toBeUndefined();
    // Either replica may have queued the stranded order (and both may have: a second add is a no-op).
    let requeued = 0;
    for (const replica of [p, p2]) {
      const metrics = await (await fetch(`http://127.0.0.1:${replica.healthPort}/metrics`)).text();
      requeued += Number(/orderstream_processor_due_requeued_total (\d+)/.exec(metrics)?.[1] ?? 0);
    }
    expect(requeued).toBeGreaterThanOrEqual(1);
  });

  it("works a backlog off without queueing its orders a second time, however overdue they are", async () => {
    const ids = await api.create(200);
    await api.enqueue(ids);
    // The orders wait in their queues far past DUE_GRACE_MS before any processor runs, and one
    // job at a time drains them slowly.
    await new Promise((r) => setTimeout(r, 1500));
    const p = await start({ DUE_GRACE_MS: "500", DUE_SWEEP_INTERVAL_MS: "50", SHIP_DELAY_MS: "1", DELIVER_DELAY_MS: "1", PROCESSOR_CONCURRENCY: "1" });
    for (const id of ids) expect(await jobEnded(id)).toBe("DELIVERED");
    const metrics = await (await fetch(`http://127.0.0.1:${p.healthPort}/metrics`)).text();
    // Sweeping without regard to the backlog queued most of it again (740 jobs for these 200
    // orders); an order whose delayed step is late by more than the grace on a loaded machine,
    // once nothing is waiting, may still be queued once.
    expect(Number(/orderstream_processor_due_requeued_total (\d+)/.exec(metrics)?.[1])).toBeLessThan(10);
  });

  it("leaves an order that is due but within DUE_GRACE_MS to the job order-api queues", async () => {
    await start({ DUE_GRACE_MS: "60000" });
    const [id] = await api.create(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(await api.jobCounts("waiting", "active", "delayed", "completed")).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: 0 });
    expect(await api.dueAt(id!)).toBeDefined();
  });

  it("stops a cancelled order while its job is delayed: no further events", async () => {
    await start({ SHIP_DELAY_MS: "600" });
    const [id] = await api.create(1);
    await api.enqueue([id!]);
    await waitUntil(async () => (await statusOf(id!)) === "PROCESSING", "order PROCESSING");
    await waitUntil(async () => (await (await api.jobOf(id!))?.getState()) === "delayed", "job delayed");
    const cancel = await api.store.transition(id!, "cancel");
    expect(cancel.ok).toBe(true);
    expect(await jobEnded(id!)).toBe("CANCELLED");
    expect(await statusOf(id!)).toBe("CANCELLED");
    expect((await statusesByOrder(client)).get(id!)).toEqual(["CONFIRMED", "PROCESSING", "CANCELLED"]);
  });

  it("ends the job of an order that does not exist", async () => {
    await start();
    await api.enqueue(["no-such-order"]);
    expect(await jobEnded("no-such-order")).toBe("not_found");
    expect((await statusesByOrder(client)).size).toBe(0);
  });

  it("consumes only its assigned partitions (PROCESSOR_PARTITIONS); another processor takes the rest", async () => {
    const ids = await api.create(24);
    await api.enqueue(ids);
    const parts = api.store.partitions;
    const mine = ids.filter((id) => parts.of(id) <= 5);
    const theirs = ids.filter((id) => parts.of(id) > 5);
    expect(mine.length).toBeGreaterThan(0);
    expect(theirs.length).toBeGreaterThan(0);
    await start({ PROCESSOR_PARTITIONS: "0-5" });
    await waitUntil(async () => (await Promise.all(mine.map(statusOf))).every((s) => s === "DELIVERED"), "its partitions' orders delivered");
    expect(new Set(await Promise.all(theirs.map(statusOf)))).toEqual(new Set(["PENDING"]));
    await start({ PROCESSOR_PARTITIONS: "6-11" });
    await waitUntil(async () => (await Promise.all(theirs.map(statusOf))).every((s) => s === "DELIVERED"), "the other partitions' orders delivered");
  });

  it("puts a job that ran out of attempts back to wait after FAILED_JOB_RETRY_MS, and its orders finish", async () => {
    const [id] = await api.create(1);
    const key = orderKey(api.store.partitions.tag(api.store.partitions.of(id!)), id!);
    // Break the order's hash (a WRONGTYPE error on every read) while its only attempt runs.
    await client.rename(key, `${key}:saved`);
    await client.set(key, "not a hash");
    await start({ JOB_ATTEMPTS: "1", FAILED_JOB_RETRY_MS: "300" });
    await api.enqueue([id!]);
    await waitUntil(async () => (await (await api.jobOf(id!))?.getState()) === "failed", "job failed");
    await client.del(key);
    await client.rename(`${key}:saved`, key);
    expect(await jobEnded(id!)).toBe("DELIVERED");
    expect((await statusesByOrder(client)).get(id!)).toEqual(FULL_LIFECYCLE);
  });

  it("stop is idempotent and closes the health server", async () => {
    const p = await start();
    expect((await fetch(`http://127.0.0.1:${p.healthPort}/readyz`)).status).toBe(200);
    const first = p.stop();
    expect(p.stop()).toBe(first);
    await first;
    await expect(fetch(`http://127.0.0.1:${p.healthPort}/readyz`)).rejects.toThrow();
  });
});
