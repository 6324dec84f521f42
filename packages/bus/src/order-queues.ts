import { Queue } from "bullmq";
import { MARK_QUEUED_LUA } from "./event-scripts.js";
import { ORDERS_QUEUE, bullmqPrefix, jobDataKey, jobOutboxKey } from "./keys.js";
import { ORDER_JOB_NAME, type OrderJobData, orderJobOptions } from "./order-job.js";
import type { StoredBatch } from "./order-store.js";
import type { Partitioning } from "./partitions.js";
import type { RedisConnection } from "./redis-connection.js";
import { guardRedis } from "./redis-errors.js";

/** Most orders one job drives (one transition script per round carries at most 100). */
const MAX_ORDERS_PER_JOB = 100;

/**
 * The BullMQ queue `orders` of every partition (index = partition), each under its partition's
 * hash-tagged prefix so that a queue lives in one Redis Cluster slot, next to its orders.
 */
export function createOrderQueues(
  connection: RedisConnection,
  partitions: Partitioning,
  onError: (err: Error, partition: number) => void,
): Queue<OrderJobData>[] {
  return partitions.all().map((p) => {
    const q = new Queue<OrderJobData>(ORDERS_QUEUE, { connection: connection as never, prefix: bullmqPrefix(partitions.tag(p)) });
    q.on("error", (err) => onError(err, p));
    return q;
  });
}

/**
 * Adds the jobs of stored batches to their partitions' queues. Batches of one partition added
 * together become one job (id = the first batch's id, data = all their orders), so a job carries
 * what was created in one partition since the last add; adding a job id twice is a no-op, and a
 * batch queued twice (once merged, once by the sweeper) only costs compare-and-set misses.
 */
export async function addBatchJobs(queues: readonly Queue<OrderJobData>[], batches: readonly StoredBatch[], attempts?: number): Promise<void> {
  await Promise.all(
    [...byPartition(batches)].map(([p, list]) => {
      const q = queues[p];
      if (!q) throw new Error(`no queue for partition ${p}`);
      const jobs: { batchId: string; orderIds: string[] }[] = [];
      for (const b of list) {
        const last = jobs[jobs.length - 1];
        if (last && last.orderIds.length + b.orderIds.length <= MAX_ORDERS_PER_JOB) last.orderIds.push(...b.orderIds);
        else jobs.push({ batchId: b.batchId, orderIds: [...b.orderIds] });
      }
      return q.addBulk(jobs.map((j) => ({ name: ORDER_JOB_NAME, data: { orderIds: j.orderIds }, opts: orderJobOptions(j.batchId, attempts) })));
    }),
  );
}

type MarkConn = RedisConnection & { osMarkQueued(numKeys: number, ...args: string[]): Promise<number> };

/** Removes batches from their partitions' job outboxes once their jobs are known to be queued. */
export async function markBatchesQueued(conn: RedisConnection, partitions: Partitioning, batches: readonly StoredBatch[]): Promise<void> {
  const c = conn as MarkConn;
  if (typeof c.osMarkQueued !== "function") conn.defineCommand("osMarkQueued", { lua: MARK_QUEUED_LUA });
  await Promise.all(
    [...byPartition(batches)].map(([p, list]) => {
      const tag = partitions.tag(p);
      return guardRedis(() => c.osMarkQueued(2, jobOutboxKey(tag), jobDataKey(tag), ...list.map((b) => b.batchId)));
    }),
  );
}

/** Batches grouped by partition (each partition's outbox and queue live in its own slot). */
function byPartition(batches: readonly StoredBatch[]): Map<number, StoredBatch[]> {
  const out = new Map<number, StoredBatch[]>();
  for (const b of batches) {
    const list = out.get(b.partition);
    if (list) list.push(b);
    else out.set(b.partition, [b]);
  }
  return out;
}
