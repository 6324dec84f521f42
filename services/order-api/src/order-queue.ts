import { Queue } from "bullmq";
import {
  BULLMQ_PREFIX,
  ORDERS_QUEUE,
  ORDER_JOB_NAME,
  type OrderJobData,
  type OrderStore,
  type RedisConnection,
  orderJobOptions,
} from "@orderstream/bus";
import type { Logger } from "pino";

/** Most jobs one background addBulk carries. */
const MAX_BACKGROUND_BATCH = 200;

/** How long an add may take before the caller stops waiting (the outbox sweeper covers it). */
const ADD_TIMEOUT_MS = 1000;

/**
 * Queues order jobs on the BullMQ queue `orders` and then clears them from the outbox. An add that
 * does not finish within {@link ADD_TIMEOUT_MS} is left to finish in the background (and to the
 * processor's outbox sweeper if it never does), so no call hangs on a Redis outage.
 */
export class OrderQueue {
  private readonly queue: Queue<OrderJobData>;
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    connection: RedisConnection,
    private readonly store: OrderStore,
    private readonly log: Logger,
  ) {
    this.queue = new Queue<OrderJobData>(ORDERS_QUEUE, { connection: connection as never, prefix: BULLMQ_PREFIX });
    this.queue.on("error", (err) => log.warn({ err: err.message }, "order queue error"));
  }

  /**
   * Queues the jobs of stored orders and marks them queued. Resolves true once done, false when it
   * took longer than the timeout (then it goes on in the background); never rejects.
   */
  async enqueue(orderIds: readonly string[]): Promise<boolean> {
    if (orderIds.length === 0) return true;
    const work = this.addAndMark(orderIds).then(
      () => true,
      (err: unknown) => {
        this.log.warn({ err, count: orderIds.length, first: orderIds[0] }, "order jobs not queued; the outbox sweeper will queue them");
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ADD_TIMEOUT_MS);
    });
    const done = await Promise.race([work, timeout]);
    clearTimeout(timer);
    if (!done) this.log.warn({ count: orderIds.length, first: orderIds[0] }, "queueing order jobs is slow; continuing in the background");
    return done;
  }

  /**
   * Queues the jobs of stored orders in the background, batched: ids handed in while a batch is
   * being added go out together in the next one (one addBulk, one outbox ZREM). The orders are in
   * the outbox already, so a crash before the add is the processors' sweeper's to finish.
   */
  enqueueSoon(orderIds: readonly string[]): void {
    this.pending.push(...orderIds);
    if (!this.flushing) this.flushing = this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    while (this.pending.length > 0) {
      const ids = this.pending.splice(0, MAX_BACKGROUND_BATCH);
      await this.enqueue(ids);
    }
    this.flushing = undefined;
  }

  /** Resolves once every id handed to {@link enqueueSoon} so far was added (or gave up). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async addAndMark(orderIds: readonly string[]): Promise<void> {
    if (orderIds.length === 1) {
      const id = orderIds[0] as string;
      await this.queue.add(ORDER_JOB_NAME, { orderId: id }, orderJobOptions(id));
    } else {
      await this.queue.addBulk(orderIds.map((id) => ({ name: ORDER_JOB_NAME, data: { orderId: id }, opts: orderJobOptions(id) })));
    }
    try {
      await this.store.markQueued(orderIds);
    } catch (err) {
      // Harmless: the sweeper re-adds them, which BullMQ ignores (same job ids).
      this.log.warn({ err, count: orderIds.length, first: orderIds[0] }, "order jobs queued but still in the outbox");
    }
  }

  /** Closes the queue after the background adds (the Redis connection is closed by its owner). */
  async close(): Promise<void> {
    await this.settled();
    await this.queue.close();
  }
}
