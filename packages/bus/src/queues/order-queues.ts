import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { DueOrder } from "../write/due-orders.js";
import { ORDERS_QUEUE, bullmqPrefix } from "../layout/keys.js";
import { ORDER_JOB_NAME, type OrderJobData, orderJobOptions } from "./order-job.js";
import type { StoredBatch } from "../write/order-store.js";
import type { Partitioning } from "../layout/partitions.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

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
 * together become one job (up to {@link MAX_ORDERS_PER_JOB} orders), so a job carries what was
 * created in one partition since the last add. A job lost on the way is found by the due sweep.
 */
export async function addBatchJobs(
  queues: readonly Queue<OrderJobData>[],
  batches: readonly StoredBatch[],
  attempts?: number,
): Promise<void> {
  const byPartition = new Map<number, string[][]>();
  for (const b of batches) {
    let jobs = byPartition.get(b.partition);
    if (!jobs) byPartition.set(b.partition, (jobs = []));
    const last = jobs[jobs.length - 1];
    if (last && last.length + b.orderIds.length <= MAX_ORDERS_PER_JOB) last.push(...b.orderIds);
    else jobs.push([...b.orderIds]);
  }
  await Promise.all(
    [...byPartition].map(([p, jobs]) =>
      queueOf(queues, p).addBulk(
        jobs.map((orderIds) => ({ name: ORDER_JOB_NAME, data: { orderIds }, opts: orderJobOptions(randomUUID(), attempts) })),
      ),
    ),
  );
}

/**
 * Re-queues overdue orders of partition `p`, one job each, with the id `due-<order>-<dueAt>`: the
 * same overdue entry is queued once however many sweeps see it, and a later step is a new job.
 */
export async function addDueJobs(
  queues: readonly Queue<OrderJobData>[],
  p: number,
  orders: readonly DueOrder[],
  attempts?: number,
): Promise<void> {
  if (orders.length === 0) return;
  await queueOf(queues, p).addBulk(
    orders.map((o) => ({
      name: ORDER_JOB_NAME,
      data: { orderIds: [o.orderId], overdueSince: o.dueAt },
      opts: orderJobOptions(`due-${o.orderId}-${o.dueAt}`, attempts),
    })),
  );
}

function queueOf(queues: readonly Queue<OrderJobData>[], p: number): Queue<OrderJobData> {
  const q = queues[p];
  if (!q) throw new Error(`no queue for partition ${p}`);
  return q;
}
