import { mkdtempSync, rmSync } from "node:fs";
import { Partitioning, channelHistoryLength } from "@orderstream/bus";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { type Processor, startProcessor } from "./processor.js";
import { FULL_LIFECYCLE, orderApiLike, statusesByOrder, testConfig } from "./processor.fixture.js";

const ORDERS = 60;

let dir: string;
let redis: TestRedis;
let processor: Processor | undefined;

beforeAll(async () => {
  // An append-only file that survives the restart, so the outage loses connections, not data.
  dir = mkdtempSync(join(tmpdir(), "os-processor-aof-"));
  redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always", "--dir", dir]);
});

afterAll(async () => {
  await processor?.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("processor across a Redis outage", () => {
  it("retries through a Redis restart and still emits exactly one event per transition", async () => {
    processor = await startProcessor(
      testConfig(redis.url, { SHIP_DELAY_MS: "300", DELIVER_DELAY_MS: "300", JOB_LOCK_MS: "1500", STALLED_INTERVAL_MS: "500" }),
    );
    const api = await orderApiLike(redis.url);
    const ids = await api.create(ORDERS);
    await api.enqueue(ids);
    await api.close();

    const client = redis.client();
    await waitUntil(async () => (await channelHistoryLength(client, "orders.status", new Partitioning())) >= ORDERS, "orders under way", 10_000, 5);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();

    const after = redis.client();
    await waitUntil(
      async () => {
        const byOrder = await statusesByOrder(after);
        return ids.every((id) => byOrder.get(id)?.at(-1) === "DELIVERED");
      },
      "every order DELIVERED after the outage",
      30_000,
      100,
    );
    const byOrder = await statusesByOrder(after);
    for (const id of ids) expect(byOrder.get(id), id).toEqual(FULL_LIFECYCLE);
    expect((await fetch(`http://127.0.0.1:${processor.healthPort}/readyz`)).status).toBe(200);
  });
});
