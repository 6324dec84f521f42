import {
  ConfigError,
  type HistoryOptions,
  envInt,
  historyEnv,
  parsePartitionSet,
  partitionEnv,
  historyFromEnv,
  historyTtlRule,
  logLevelEnv,
  parseEnv,
  redisUrlEnv,
  waitEnv,
  waitFromEnv,
} from "@orderstream/bus";
import { z } from "zod";

export { ConfigError };

/** The processor's configuration, parsed once from the environment at start-up. */
export interface ProcessorConfig {
  redisUrl: string;
  /** REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: writes confirmed by WAIT; undefined = off. */
  waitReplicas?: { replicas: number; timeoutMs: number } | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  shutdownTimeoutMs: number;
  history: HistoryOptions;
  /** PARTITIONS: the write path's partitions (the same in every service). */
  partitions: number;
  /** PROCESSOR_PARTITIONS: the partitions this processor consumes and sweeps (default all). */
  assignedPartitions: number[];
  /** FAILED_JOB_RETRY_MS: a job out of attempts goes back to wait this long after it failed. */
  failedJobRetryMs: number;
  concurrency: number;
  /** PROCESSOR_WORKFLOW: the path of a workflow module; undefined = the demo timeline (SHIP_DELAY_MS, DELIVER_DELAY_MS). */
  workflowPath: string | undefined;
  shipDelayMs: number;
  deliverDelayMs: number;
  jobAttempts: number;
  /** DUE_SWEEP_INTERVAL_MS: how often the due sweep looks for orders whose job is late or gone. */
  dueSweepIntervalMs: number;
  /** DUE_GRACE_MS: how long past its due time an order waits for its job before the sweep re-queues it. */
  dueGraceMs: number;
  healthPort: number;
  /** QUEUE_SAMPLE_INTERVAL_MS: how often the partition queues' job counts are sampled for /metrics. */
  queueSampleIntervalMs: number;
  jobLockMs: number;
  stalledIntervalMs: number;
}

const int = envInt;
const DAY_MS = 24 * 3600_000;

/** The processor's environment variables: names, bounds, defaults and meanings (docs/configuration.md is generated from it). */
export const envSchema = z
  .object({
    REDIS_URL: redisUrlEnv,
    REDIS_WAIT_REPLICAS: waitEnv.REDIS_WAIT_REPLICAS,
    REDIS_WAIT_TIMEOUT_MS: waitEnv.REDIS_WAIT_TIMEOUT_MS,
    LOG_LEVEL: logLevelEnv,
    SHUTDOWN_TIMEOUT_MS: int(100, 10 * 60_000, 10_000).describe(
      "Graceful stop deadline: running jobs finish, then the process exits whatever is left",
    ),
    HISTORY_SIZE: historyEnv.HISTORY_SIZE,
    HISTORY_TTL_MS: historyEnv.HISTORY_TTL_MS,
    HISTORY_META_TTL_MS: historyEnv.HISTORY_META_TTL_MS,
    PARTITIONS: partitionEnv.PARTITIONS,
    PROCESSOR_PARTITIONS: z
      .string()
      .default("all")
      .describe("The partitions this processor consumes and sweeps: all, or a list such as 0-5,9"),
    FAILED_JOB_RETRY_MS: int(100, 7 * DAY_MS, 60_000).describe(
      "A job that used up JOB_ATTEMPTS goes back to wait this long after it failed",
    ),
    PROCESSOR_CONCURRENCY: int(1, 10_000, 50).describe("Jobs in parallel per processor, split over its partitions' workers"),
    PROCESSOR_WORKFLOW: z
      .string()
      .optional()
      .describe("Path of a workflow module (docs/workflows.md); unset = the demo timeline of SHIP_DELAY_MS and DELIVER_DELAY_MS"),
    SHIP_DELAY_MS: int(0, 30 * DAY_MS, 2000).describe("Demo timeline: PROCESSING to SHIPPED delay (0 = orders stop at PROCESSING)"),
    DELIVER_DELAY_MS: int(0, 30 * DAY_MS, 3000).describe("Demo timeline: SHIPPED to DELIVERED delay (0 = orders stop at SHIPPED)"),
    JOB_ATTEMPTS: int(1, 100, 5).describe("Attempts per job, retried with exponential backoff"),
    DUE_SWEEP_INTERVAL_MS: int(10, 3600_000, 1000).describe("How often the due sweep looks for orders whose job is late or lost"),
    DUE_GRACE_MS: int(0, DAY_MS, 15_000).describe(
      "How long past its due time an order waits for its job before the due sweep queues it again",
    ),
    HEALTH_PORT: int(0, 65_535, 9100).describe("HTTP port of /healthz, /readyz and /metrics"),
    QUEUE_SAMPLE_INTERVAL_MS: int(100, 3600_000, 5000).describe("How often the partition queues' job counts are sampled for /metrics"),
    JOB_LOCK_MS: int(500, 3600_000, 30_000).describe("BullMQ job lock: how long a dead worker's job stays taken"),
    STALLED_INTERVAL_MS: int(100, 3600_000, 30_000).describe(
      "BullMQ stalled-job check interval (how fast a dead worker's jobs are taken over)",
    ),
  })
  .refine(...historyTtlRule)
  .superRefine((c, ctx) => {
    try {
      parsePartitionSet(c.PROCESSOR_PARTITIONS, c.PARTITIONS);
    } catch (err) {
      ctx.addIssue({ code: "custom", path: ["PROCESSOR_PARTITIONS"], message: (err as Error).message });
    }
  });

/**
 * Parses and validates the processor's environment (names and defaults: the README's Configuration table).
 * Empty values count as unset. Throws {@link ConfigError} naming every offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  const c = parseEnv("processor", envSchema, Object.keys(envSchema.shape), env);
  return {
    redisUrl: c.REDIS_URL,
    waitReplicas: waitFromEnv(c),
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    history: historyFromEnv(c),
    partitions: c.PARTITIONS,
    assignedPartitions: parsePartitionSet(c.PROCESSOR_PARTITIONS, c.PARTITIONS),
    failedJobRetryMs: c.FAILED_JOB_RETRY_MS,
    concurrency: c.PROCESSOR_CONCURRENCY,
    workflowPath: c.PROCESSOR_WORKFLOW,
    shipDelayMs: c.SHIP_DELAY_MS,
    deliverDelayMs: c.DELIVER_DELAY_MS,
    jobAttempts: c.JOB_ATTEMPTS,
    dueSweepIntervalMs: c.DUE_SWEEP_INTERVAL_MS,
    dueGraceMs: c.DUE_GRACE_MS,
    healthPort: c.HEALTH_PORT,
    queueSampleIntervalMs: c.QUEUE_SAMPLE_INTERVAL_MS,
    jobLockMs: c.JOB_LOCK_MS,
    stalledIntervalMs: c.STALLED_INTERVAL_MS,
  };
}
