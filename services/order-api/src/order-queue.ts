import type { Queue } from "bullmq";
import {
  type OrderJobData,
  type OrderStore,
  type RedisConnection,
  type StoredBatch,
  addBatchJobs,
  createOrderQueues,
} from "@orderstream/bus";
import type { Logger } from "pino";

/** Most batches one background add carries. */
const MAX_BACKGROUND_BATCHES = 200;

/** How long stored batches are gathered before their jobs are added (one addBulk for many). */
const GATHER_MS = 10;

/** How long an add may take before the caller stops waiting (the due sweep covers it). */
const ADD_TIMEOUT_MS = 1000;

/**
 * Queues one job per stored order batch on its partition's BullMQ queue `orders`. Adds run in the
 * background, batched across calls; an add that fails or hangs is left to the processors' due
 * sweep (every new order is in its partition's due set, written with the order), so no call waits
 * on a Redis outage.
 */
export class OrderQueue {
  private readonly queues: Queue<OrderJobData>[];
  private pending: StoredBatch[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    connection: RedisConnection,
    store: OrderStore,
    private readonly log: Logger,
  ) {
    this.queues = createOrderQueues(connection, store.partitions, (err, partition) =>
      log.warn({ err: err.message, partition }, "order queue error"),
    );
  }

  /** Queues the job of a stored batch soon, together with other batches stored meanwhile. */
  enqueueSoon(batch: StoredBatch): void {
    this.pending.push(batch);
    if (!this.flushing) this.flushing = this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    // Gather a few milliseconds of batches: one addBulk (one job per partition) instead of many.
    await new Promise<void>((r) => setTimeout(r, GATHER_MS));
    while (this.pending.length > 0) {
      const batches = this.pending.splice(0, MAX_BACKGROUND_BATCHES);
      await this.enqueue(batches);
    }
    this.flushing = undefined;
  }

  /** Adds the jobs and marks them queued; resolves false when it failed or took too long. */
  private async enqueue(batches: StoredBatch[]): Promise<boolean> {
    const work = addBatchJobs(this.queues, batches).then(
      () => true,
      (err: unknown) => {
        this.log.warn({ err, batches: batches.length }, "order jobs not queued; the due sweep will queue them");
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ADD_TIMEOUT_MS);
    });
    const done = await Promise.race([work, timeout]);
    clearTimeout(timer);
    if (!done) this.log.warn({ batches: batches.length }, "queueing order jobs is slow or failing; continuing in the background");
    return done;
  }

  /** Resolves once every batch handed to {@link enqueueSoon} so far was added (or gave up). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Closes the queues after the background adds (the Redis connection is closed by its owner). */
  async close(): Promise<void> {
    await this.settled();
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
