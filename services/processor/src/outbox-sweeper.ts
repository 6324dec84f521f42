import type { Queue } from "bullmq";
import type { OrderStore } from "@orderstream/bus";
import type { Logger } from "pino";
import type { ProcessorMetrics } from "./metrics.js";
import { ORDER_JOB_NAME, orderJobOptions } from "@orderstream/bus";
import type { OrderJobData } from "./order-steps.js";

/** Orders queued per sweep batch. */
const SWEEP_BATCH = 500;
/** Batches per sweep at most, so one sweep stays bounded even with a large backlog. */
const MAX_BATCHES_PER_SWEEP = 20;

/** Options of {@link OutboxSweeper}. */
export interface OutboxSweeperOptions {
  intervalMs: number;
  staleMs: number;
  jobAttempts: number;
}

/**
 * Queues the jobs of orders that were stored but never confirmed queued (order-api died between
 * storing and queueing). Adding uses job id = order id, so BullMQ ignores a job that already
 * exists, and removing from the outbox is idempotent: any number of replicas may sweep at once.
 */
export class OutboxSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: OrderStore,
    private readonly queue: Queue<OrderJobData, string>,
    private readonly opts: OutboxSweeperOptions,
    private readonly metrics: ProcessorMetrics,
    private readonly logger: Logger,
  ) {}

  /** Starts sweeping every `intervalMs` (sweeps never overlap). */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then(
          (n) => {
            if (n > 0) this.logger.info({ queued: n }, "outbox sweep queued stranded orders");
          },
          (err: unknown) => {
            this.metrics.outboxErrors.inc();
            this.logger.error({ err }, "outbox sweep failed; will retry");
          },
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.opts.intervalMs);
  }

  /** One sweep: queues every stale outbox entry (bounded); returns how many were queued. */
  async sweep(): Promise<number> {
    let total = 0;
    for (let b = 0; b < MAX_BATCHES_PER_SWEEP && !this.stopped; b++) {
      const ids = await this.store.unqueued(this.opts.staleMs, SWEEP_BATCH);
      if (ids.length === 0) break;
      await this.queue.addBulk(
        ids.map((orderId) => ({
          name: ORDER_JOB_NAME,
          data: { orderId },
          opts: orderJobOptions(orderId, this.opts.jobAttempts),
        })),
      );
      await this.store.markQueued(ids);
      this.metrics.outboxSwept.inc(ids.length);
      total += ids.length;
      if (ids.length < SWEEP_BATCH) break;
    }
    return total;
  }

  /** Stops sweeping and waits for a sweep in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
