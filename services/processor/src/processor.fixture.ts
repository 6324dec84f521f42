import type { Job, JobType, Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  ORDER_JOB_NAME,
  type OrderJobData,
  OrderStore,
  type StoredBatch,
  createOrderQueues,
  createRedis,
  dueKey,
  Partitioning,
  readChannelHistory,
  isClusterUrl,
  orderJobOptions,
  waitReady,
} from "@orderstream/bus";
import { CHANNEL_STATUS } from "@orderstream/domain";
import { type ProcessorConfig, loadConfig } from "./config.js";

/** Test helpers shared by the processor's integration tests (excluded from the build). */

/** A processor config for in-process tests: quiet, any free health port, small delays. */
export function testConfig(redisUrl: string, env: Record<string, string> = {}): ProcessorConfig {
  return loadConfig({
    REDIS_URL: redisUrl,
    LOG_LEVEL: "silent",
    HEALTH_PORT: "0",
    SHIP_DELAY_MS: "50",
    DELIVER_DELAY_MS: "50",
    DUE_SWEEP_INTERVAL_MS: "100",
    DUE_GRACE_MS: "60000",
    HISTORY_SIZE: "100000",
    ...env,
  });
}

/** What {@link orderApiLike} gives a test: order-api's writes, without gRPC. */
export interface OrderApiLike {
  store: OrderStore;
  queues: Queue<OrderJobData>[];
  /** Creates `n` orders one after another (each its own batch, so its own job); returns their ids. */
  create(n: number): Promise<string[]>;
  /** Queues the jobs of the batches holding these orders (as order-api does after the create). */
  enqueue(ids: string[]): Promise<void>;
  /** The job (batch) that carries an order, once queued. */
  jobOf(orderId: string): Promise<Job<OrderJobData> | undefined>;
  /** When an order's next step is due (its due-set score), or undefined when nothing is due. */
  dueAt(orderId: string): Promise<number | undefined>;
  /** Job counts summed over every partition's queue. */
  jobCounts(...states: JobType[]): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** A command connection, an OrderStore on it, and the partitions' queues like order-api's. */
export async function orderApiLike(redisUrl: string): Promise<OrderApiLike> {
  const conn = createRedis(redisUrl, { role: "command", name: "test-api" });
  const qconn = createRedis(redisUrl, { role: "bullmq", name: "test-queue" });
  await Promise.all([waitReady(conn), waitReady(qconn)]);
  const batches = new Map<string, StoredBatch & { jobId: string }>();
  const store = new OrderStore(conn, {
    history: { size: 100_000, ttlMs: 600_000, metaTtlMs: 86_400_000 },
    sharded: isClusterUrl(redisUrl),
    onBatchStored: (b) => {
      for (const id of b.orderIds) batches.set(id, { ...b, jobId: `batch-${b.orderIds[0]}` });
    },
  });
  const queues = createOrderQueues(qconn, store.partitions, () => undefined);
  // An id not created here (a missing order) gets a batch of its own, as a stray job would carry it.
  const batchOf = (id: string): StoredBatch & { jobId: string } => {
    let b = batches.get(id);
    if (!b) batches.set(id, (b = { partition: store.partitions.of(id), jobId: `stray-${id}`, orderIds: [id] }));
    return b;
  };
  return {
    store,
    queues,
    async create(n) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const { order } = await store.create({ userId: `u${i % 7}`, items: [{ productId: "p1", quantity: 1 + i, price: 2.5 }] });
        ids.push(order.id);
      }
      return ids;
    },
    async enqueue(ids) {
      for (const b of new Set(ids.map(batchOf))) {
        await queues[b.partition]?.add(ORDER_JOB_NAME, { orderIds: b.orderIds }, orderJobOptions(b.jobId, 5));
      }
    },
    async jobOf(orderId) {
      const b = batchOf(orderId);
      return (await queues[b.partition]?.getJob(b.jobId)) ?? undefined;
    },
    async dueAt(orderId) {
      const score = await conn.zscore(dueKey(store.partitions.tag(store.partitions.of(orderId))), orderId);
      return score === null ? undefined : Number(score);
    },
    async jobCounts(...states: JobType[]) {
      const all = await Promise.all(queues.map((q) => q.getJobCounts(...states)));
      const out: Record<string, number> = {};
      for (const c of all) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
      return out;
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
      conn.disconnect();
      qconn.disconnect();
    },
  };
}

/** Every `order.status` event in the history (each order's in order), as order id + status. */
export async function statusEvents(redis: Redis): Promise<{ orderId: string; status: string }[]> {
  const frames = await readChannelHistory(redis, CHANNEL_STATUS, new Partitioning());
  return frames.map((f) => {
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
