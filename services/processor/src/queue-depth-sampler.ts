import type { RedisMemory } from "@orderstream/bus";
import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { type ProcessorMetrics, SAMPLED_JOB_STATES } from "./metrics.js";

/**
 * Samples the job counts of this processor's partition queues on an interval into
 * `orderstream_processor_queue_jobs{partition,state}`, and each partition's overdue orders into
 * `orderstream_processor_overdue_orders{partition}`, and the Redis masters' memory: one
 * `getJobCounts` and one count per queue and one `INFO memory` per master per interval, however
 * often Prometheus scrapes. A failed sample is logged and counted; the gauges
 * keep the last values.
 */
export class QueueDepthSampler {
  private timer: NodeJS.Timeout | undefined;
  /** The last sample's job counts per partition. */
  private readonly last = new Map<number, Record<string, number>>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly queues: readonly { partition: number; queue: Queue }[],
    private readonly intervalMs: number,
    private readonly metrics: ProcessorMetrics,
    private readonly logger: Logger,
    /** Orders of partition `p` due for more than DUE_GRACE_MS. */
    private readonly countOverdue?: (partition: number) => Promise<number>,
    /** The Redis masters' memory. */
    private readonly readMemory?: () => Promise<RedisMemory[]>,
  ) {}

  /** Takes a first sample now, then one every interval. */
  start(): void {
    if (this.timer) return;
    void this.sampleOnce();
    this.timer = setInterval(() => void this.sampleOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** One sample of every queue (skipped while the previous one still runs). */
  sampleOnce(): Promise<void> {
    this.running ??= (async () => {
      try {
        const memory = this.readMemory?.().then((nodes) => {
          for (const n of nodes) {
            this.metrics.redisMemoryUsed.set({ redis: n.node }, n.usedBytes);
            this.metrics.redisMemoryMax.set({ redis: n.node }, n.maxBytes);
          }
        });
        await Promise.all([
          memory,
          ...this.queues.map(async ({ partition, queue }) => {
            const counts = await queue.getJobCounts(...SAMPLED_JOB_STATES);
            this.last.set(partition, counts);
            for (const state of SAMPLED_JOB_STATES) this.metrics.queueJobs.set({ partition: String(partition), state }, counts[state] ?? 0);
            if (this.countOverdue) this.metrics.overdueOrders.set({ partition: String(partition) }, await this.countOverdue(partition));
          }),
        ]);
      } catch (err) {
        this.metrics.queueSampleErrors.inc();
        this.logger.warn({ err }, "sampling the queue depth failed");
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** The last sample's job counts summed over this processor's queues, by state (what the node registry shows). */
  depth(): Record<(typeof SAMPLED_JOB_STATES)[number], number> {
    const sum = { waiting: 0, active: 0, delayed: 0, failed: 0 };
    for (const counts of this.last.values()) for (const state of SAMPLED_JOB_STATES) sum[state] += counts[state] ?? 0;
    return sum;
  }

  /** Stops sampling and waits for a sample in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
