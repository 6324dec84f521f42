import { Queue } from "bullmq";
import { bullmqPrefix, ORDERS_QUEUE } from "./keys.js";
import { ORDER_JOB_NAME, type OrderJobData, orderJobOptions } from "./order-job.js";
import type { StoredBatch } from "./order-store.js";
import type { Partitioning } from "./partitions.js";
import type { RedisConnection } from "./redis-connection.js";

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

/** Adds one job per batch to its partition's queue (job id = batch id: adding twice is a no-op). */
export async function addBatchJobs(queues: readonly Queue<OrderJobData>[], batches: readonly StoredBatch[], attempts?: number): Promise<void> {
  const byPartition = new Map<number, StoredBatch[]>();
  for (const b of batches) {
    const list = byPartition.get(b.partition);
    if (list) list.push(b);
    else byPartition.set(b.partition, [b]);
  }
  await Promise.all(
    [...byPartition].map(([p, list]) => {
      const q = queues[p];
      if (!q) throw new Error(`no queue for partition ${p}`);
      return q.addBulk(list.map((b) => ({ name: ORDER_JOB_NAME, data: { orderIds: b.orderIds }, opts: orderJobOptions(b.batchId, attempts) })));
    }),
  );
}
