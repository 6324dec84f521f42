import type { Queue } from "bullmq";
import { type OrderJobData, type Partitioning, type RedisConnection, addDueJobs, overdueOrders } from "@orderstream/bus";
import type { Logger } from "pino";
import type { ProcessorMetrics } from "./metrics.js";

/** Orders handled per sweep step. */
const SWEEP_BATCH = 500;
/** Steps per partition per sweep at most, so one sweep stays bounded even with a large backlog. */
const MAX_STEPS_PER_SWEEP = 20;

/** Options of {@link DueSweeper}. */
export interface DueSweeperOptions {
  intervalMs: number;
  /** How long past its due time an order waits for its job before it is queued again. */
  graceMs: number;
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

/**
 * The due sweep, per partition: every order with a step due is in its partition's due set,
 * written by the same script that changed the order, so an order whose job was lost (with a
 * failed-over primary, or by an order-api that died before queueing it) stays there past its due
 * time. The sweep queues such orders again (job id from the due entry: once per entry however
 * many processors sweep) and puts jobs that ran out of attempts back to wait. Every step the job
 * then runs is a compare-and-set: a job queued twice costs a miss, never a second event.
 */
export class DueSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly cmd: RedisConnection,
    private readonly partitions: Partitioning,
    private readonly queues: readonly Queue<OrderJobData>[],
    private readonly opts: DueSweeperOptions,
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
          (requeued) => {
            if (requeued > 0) this.logger.info({ requeued }, "due sweep queued overdue orders again");
          },
          (err: unknown) => {
            this.metrics.dueSweepErrors.inc();
            this.logger.error({ err }, "due sweep failed; will retry");
          },
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.opts.intervalMs);
  }

  /** One sweep over every assigned partition (bounded per partition); returns how many orders it queued. */
  async sweep(): Promise<number> {
    let requeued = 0;
    for (const p of this.opts.partitions) {
      if (this.stopped) break;
      const queue = this.queues[p];
      if (!queue) continue;
      await queue.retryJobs({ state: "failed", count: SWEEP_BATCH, timestamp: Date.now() - this.opts.failedJobRetryMs });
      // A queue that is behind (its oldest waiting or running job was added at T) may still hold
      // the jobs of orders due before T: only orders due before both T and the grace count as
      // overdue, so a backlog is worked off, not queued a second time.
      const oldest = await queue.getJobs(["wait", "active"], 0, 0, true);
      const behindSince = Math.min(...oldest.map((j) => j.timestamp));
      const until = Math.min(Date.now() - this.opts.graceMs, behindSince - 1);
      for (let i = 0; i < MAX_STEPS_PER_SWEEP && !this.stopped; i++) {
        const page = { offset: i * SWEEP_BATCH, limit: SWEEP_BATCH };
        const overdue = await overdueOrders(this.cmd, this.partitions, p, until, page);
        await addDueJobs(this.queues, p, overdue, this.opts.jobAttempts);
        this.metrics.dueRequeued.inc(overdue.length);
        requeued += overdue.length;
        // The entries stay until their orders move on: the next step pages past what was queued.
        if (overdue.length < SWEEP_BATCH) break;
      }
    }
    return requeued;
  }

  /** Stops sweeping and waits for a sweep in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
