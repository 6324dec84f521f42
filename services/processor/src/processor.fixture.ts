import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { BULLMQ_PREFIX, ORDERS_QUEUE, OrderStore, createRedis, historyKey, waitReady } from "@orderstream/bus";
import { CHANNEL_STATUS } from "@orderstream/domain";
import { type ProcessorConfig, loadConfig } from "./config.js";
import { ORDER_JOB_NAME, orderJobOptions } from "@orderstream/bus";
import type { OrderJobData } from "./order-steps.js";

/** Test helpers shared by the processor's integration tests (excluded from the build). */

/** A processor config for in-process tests: quiet, any free health port, small delays. */
export function testConfig(redisUrl: string, env: Record<string, string> = {}): ProcessorConfig {
  return loadConfig({
    REDIS_URL: redisUrl,
    LOG_LEVEL: "silent",
    HEALTH_PORT: "0",
    SHIP_DELAY_MS: "50",
    DELIVER_DELAY_MS: "50",
    OUTBOX_SWEEP_INTERVAL_MS: "100",
    OUTBOX_STALE_MS: "60000",
    HISTORY_SIZE: "100000",
    ...env,
  });
}

/** A command connection, an OrderStore on it, and a Queue like order-api's. */
export async function orderApiLike(redisUrl: string): Promise<{
  store: OrderStore;
  queue: Queue<OrderJobData, string>;
  create(n: number): Promise<string[]>;
  enqueue(ids: string[]): Promise<void>;
  close(): Promise<void>;
}> {
  const conn = createRedis(redisUrl, { role: "command", name: "test-api" });
  const qconn = createRedis(redisUrl, { role: "bullmq", name: "test-queue" });
  await Promise.all([waitReady(conn), waitReady(qconn)]);
  const store = new OrderStore(conn, { history: { size: 100_000, ttlMs: 600_000, metaTtlMs: 86_400_000 } });
  const queue = new Queue<OrderJobData, string>(ORDERS_QUEUE, { connection: qconn as never, prefix: BULLMQ_PREFIX });
  return {
    store,
    queue,
    async create(n) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const { order } = await store.create({ userId: `u${i % 7}`, items: [{ productId: "p1", quantity: 1 + i, price: 2.5 }] });
        ids.push(order.id);
      }
      return ids;
    },
    async enqueue(ids) {
      await queue.addBulk(ids.map((orderId) => ({ name: ORDER_JOB_NAME, data: { orderId }, opts: orderJobOptions(orderId, 5) })));
    },
    async close() {
      await queue.close();
      conn.disconnect();
      qconn.disconnect();
    },
  };
}

/** Every `order.status` event in the history stream, oldest first, as order id + status. */
export async function statusEvents(redis: Redis): Promise<{ orderId: string; status: string }[]> {
  const entries = await redis.xrange(historyKey(CHANNEL_STATUS), "-", "+");
  return entries.map(([, fields]) => {
    const f = fields[fields.indexOf("f") + 1] ?? "{}";
    const frame = JSON.parse(f) as { data: { id: string; status: string } };
    return { orderId: frame.data.id, status: frame.data.status };
  });
}

/** The statuses each order's events carried, in event order. */
export async function statusesByOrder(redis: Redis): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  for (const e of await statusEvents(redis)) {
    const list = map.get(e.orderId) ?? [];
    list.push(e.status);
    map.set(e.orderId, list);
  }
  return map;
}

/** The full automatic lifecycle after PENDING. */
export const FULL_LIFECYCLE = ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"];
