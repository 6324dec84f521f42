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
 * many processors sweep), except in a partition whose queue has jobs waiting (a backlog holds the
 * jobs of its overdue orders: it is worked off, not queued twice), and puts jobs that ran out of
 * attempts back to wait. Every step the job
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
      // A queue with jobs waiting is behind: the jobs of its overdue orders may be among them.
      // Its backlog is worked off, not queued a second time; the sweep looks again once it is
      // caught up.
      if ((await queue.getWaitingCount()) > 0) continue;
      const until = Date.now() - this.opts.graceMs;
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
