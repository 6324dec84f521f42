import type { Queue } from "bullmq";
import { type OrderJobData, type OrderRepair, type OrderStore, type RedisConnection, addBatchJobs, markBatchesQueued } from "@orderstream/bus";
import type { Logger } from "pino";
import type { ProcessorMetrics } from "./metrics.js";

/** Orders (or batches) handled per sweep step. */
const SWEEP_BATCH = 500;
/** Steps per partition per sweep at most, so one sweep stays bounded even with a large backlog. */
const MAX_STEPS_PER_SWEEP = 20;


/** Options of {@link OutboxSweeper}. */
export interface OutboxSweeperOptions {
  intervalMs: number;
  staleMs: number;
  jobAttempts: number;
  /**
   * A job that used up its attempts (a Redis outage longer than its backoff) is put back to wait
   * this long after it failed: its orders must still reach the end of their lifecycle, and every
   * step is a compare-and-set, so a rerun never repeats one.
   */
  failedJobRetryMs: number;
  /** The partitions this processor sweeps. */
  partitions: number[];
}

/** What one sweep did. */
export interface SweepResult {
  /** Batches whose job was queued by the sweep. */
  queued: number;
  /** Orders whose half-done events the sweep completed. */
  repaired: number;
}

/**
 * The repair sweep, per partition: completes events whose writer died between the order step and
 * the channel steps (once its lease ended), puts jobs that ran out of attempts back to wait (after
 * `failedJobRetryMs`), and queues the jobs of order batches stored but never
 * confirmed queued (job id = batch id, so BullMQ ignores a job that already exists). Every step is
 * idempotent: any number of processors may sweep the same partitions at once.
 */
export class OutboxSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly cmd: RedisConnection,
    private readonly store: OrderStore,
    private readonly repair: OrderRepair,
    private readonly queues: readonly Queue<OrderJobData>[],
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
          (r) => {
            if (r.queued > 0 || r.repaired > 0) this.logger.info(r, "repair sweep completed stranded work");
          },
          (err: unknown) => {
            this.metrics.outboxErrors.inc();
            this.logger.error({ err }, "repair sweep failed; will retry");
          },
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.opts.intervalMs);
  }

  /** One sweep over every assigned partition (bounded per partition). */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { queued: 0, repaired: 0 };
    for (const p of this.opts.partitions) {
      if (this.stopped) break;
      for (let i = 0; i < MAX_STEPS_PER_SWEEP && !this.stopped; i++) {
        const n = await this.repair.completeStale(p, SWEEP_BATCH);
        this.metrics.eventsRepaired.inc(n);
        result.repaired += n;
        if (n < SWEEP_BATCH) break;
      }
      const queue = this.queues[p];
      if (queue && !this.stopped) {
        await queue.retryJobs({ state: "failed", count: SWEEP_BATCH, timestamp: Date.now() - this.opts.failedJobRetryMs });
      }
      for (let i = 0; i < MAX_STEPS_PER_SWEEP && !this.stopped; i++) {
        const batches = await this.repair.unqueuedBatches(p, this.opts.staleMs, SWEEP_BATCH);
        if (batches.length === 0) break;
        await addBatchJobs(this.queues, batches, this.opts.jobAttempts);
        await markBatchesQueued(this.cmd, this.store.partitions, batches);
        this.metrics.outboxSwept.inc(batches.length);
        result.queued += batches.length;
        if (batches.length < SWEEP_BATCH) break;
      }
    }
    return result;
  }

  /** Stops sweeping and waits for a sweep in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
