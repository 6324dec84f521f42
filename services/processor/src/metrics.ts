import { registerBuildInfo } from "@orderstream/bus";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The BullMQ job states sampled per partition queue (`orderstream_processor_queue_jobs{state}`). */
export const SAMPLED_JOB_STATES = ["waiting", "active", "delayed", "failed"] as const;

/** The processor's Prometheus metrics, on a registry of its own (one per started processor). */
export interface ProcessorMetrics {
  registry: Registry;
  /** Status transitions this processor applied, by the status they led to. */
  transitions: Counter<"to">;
  /** Job attempts that failed, `final` = no retry left. */
  jobsFailed: Counter<"final">;
  /** Workflow step attempts that failed (threw, timed out), by the status the step runs in. */
  stepAttemptsFailed: Counter<"step">;
  /** Orders moved to FAILED: their step failed for good, by step and kind (timeout, error, permanent). */
  ordersFailed: Counter<"step" | "reason">;
  /** Orders the due sweep found overdue (their job late or gone) and queued again. */
  dueRequeued: Counter;
  /** Due sweeps that failed (Redis errors). */
  dueSweepErrors: Counter;
  /** Jobs of each assigned partition's queue by state, sampled every QUEUE_SAMPLE_INTERVAL_MS. */
  queueJobs: Gauge<"partition" | "state">;
  /** Queue samplings that failed (Redis errors). */
  queueSampleErrors: Counter;
  /** Orders of each assigned partition due for more than DUE_GRACE_MS (stuck), sampled with the queues. */
  overdueOrders: Gauge<"partition">;
  /** Memory used by each Redis master (`redis` = host:port), sampled with the queues. */
  redisMemoryUsed: Gauge<"redis">;
  /** Each Redis master's `maxmemory` (0 = no limit), sampled with the queues. */
  redisMemoryMax: Gauge<"redis">;
  /** How long one run of a job took, by how it ended (`completed`, `delayed`, `failed`). */
  jobDuration: Histogram<"outcome">;
  /** Time from a job's creation to its first run (queue lag). */
  jobWait: Histogram;
  /** 1 while both Redis connections are ready, 0 otherwise (read at every scrape). */
  redisUp: Gauge;
  /** Reports `ready()` as `orderstream_processor_redis_up` at every scrape. */
  trackRedis(ready: () => boolean): void;
}

/** Creates the metrics; `defaults` adds Node's standard `process_*` / `nodejs_*` metrics, unprefixed (off for in-process tests). */
export function createMetrics(defaults: boolean): ProcessorMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry, "processor");
  const registers = [registry];
  let redisReady: () => boolean = () => false;
  const redisUp: Gauge = new Gauge({
    name: "orderstream_processor_redis_up",
    help: "1 while the processor's Redis connections are ready, 0 otherwise.",
    registers,
    collect: () => redisUp.set(redisReady() ? 1 : 0),
  });
  return {
    registry,
    transitions: new Counter({
      name: "orderstream_processor_transitions_total",
      help: "Order status transitions applied by the processor, by target status.",
      labelNames: ["to"],
      registers,
    }),
    jobsFailed: new Counter({
      name: "orderstream_processor_jobs_failed_total",
      help: "Order job attempts that failed; final=true when no retry is left.",
      labelNames: ["final"],
      registers,
    }),
    stepAttemptsFailed: new Counter({
      name: "orderstream_processor_step_attempts_failed_total",
      help: "Workflow step attempts that threw or timed out, by the status the step runs in.",
      labelNames: ["step"],
      registers,
    }),
    ordersFailed: new Counter({
      name: "orderstream_processor_orders_failed_total",
      help: "Orders moved to FAILED because their workflow step failed for good, by step and reason (timeout, error, permanent).",
      labelNames: ["step", "reason"],
      registers,
    }),
    dueRequeued: new Counter({
      name: "orderstream_processor_due_requeued_total",
      help: "Orders found overdue by more than DUE_GRACE_MS (their job late or lost) and queued again by the due sweep.",
      registers,
    }),
    dueSweepErrors: new Counter({
      name: "orderstream_processor_due_sweep_errors_total",
      help: "Due sweeps that failed.",
      registers,
    }),
    queueJobs: new Gauge({
      name: "orderstream_processor_queue_jobs",
      help: "Jobs in each assigned partition's orders queue by state (waiting, active, delayed, failed), sampled on an interval.",
      labelNames: ["partition", "state"],
      registers,
    }),
    queueSampleErrors: new Counter({
      name: "orderstream_processor_queue_sample_errors_total",
      help: "Queue depth samplings that failed (Redis errors).",
      registers,
    }),
    overdueOrders: new Gauge({
      name: "orderstream_processor_overdue_orders",
      help: "Orders of each assigned partition whose next step has been due for more than DUE_GRACE_MS (their job late or lost), sampled on an interval.",
      labelNames: ["partition"],
      registers,
    }),
    redisMemoryUsed: new Gauge({
      name: "orderstream_processor_redis_memory_used_bytes",
      help: "Memory used by each Redis master (INFO memory used_memory), sampled on an interval.",
      labelNames: ["redis"],
      registers,
    }),
    redisMemoryMax: new Gauge({
      name: "orderstream_processor_redis_memory_max_bytes",
      help: "Each Redis master's maxmemory (0 = no limit), sampled on an interval.",
      labelNames: ["redis"],
      registers,
    }),
    jobDuration: new Histogram({
      name: "orderstream_processor_job_duration_seconds",
      help: "Duration of one run of an order job, by outcome (completed, delayed, failed).",
      labelNames: ["outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    jobWait: new Histogram({
      name: "orderstream_processor_job_wait_seconds",
      help: "Time from an order job's creation to its first run (queue lag).",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    redisUp,
    trackRedis: (ready) => {
      redisReady = ready;
    },
  };
}
