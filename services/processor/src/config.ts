import { z } from "zod";

/** The processor's configuration, parsed once from the environment at start-up. */
export interface ProcessorConfig {
  redisUrl: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  shutdownTimeoutMs: number;
  historySize: number;
  historyTtlMs: number;
  historyMetaTtlMs: number;
  concurrency: number;
  shipDelayMs: number;
  deliverDelayMs: number;
  jobAttempts: number;
  outboxSweepIntervalMs: number;
  outboxStaleMs: number;
  healthPort: number;
  jobLockMs: number;
  stalledIntervalMs: number;
}

/** A configuration value that stops start-up; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const DAY_MS = 24 * 3600_000;

function validRedisUrl(value: string): boolean {
  return value.split(",").every((part) => {
    try {
      const u = new URL(part.trim());
      return (u.protocol === "redis:" || u.protocol === "rediss:") && u.hostname.length > 0;
    } catch {
      return false;
    }
  });
}

const schema = z
  .object({
    REDIS_URL: z
      .string({ error: "is required (redis://host:port, or comma-separated node URLs for a cluster)" })
      .refine(validRedisUrl, "must be redis://host:port or comma-separated redis:// node URLs"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    SHUTDOWN_TIMEOUT_MS: int(100, 10 * 60_000, 10_000),
    HISTORY_SIZE: int(1, 10_000_000, 1000),
    HISTORY_TTL_MS: int(1000, 365 * DAY_MS, 600_000),
    HISTORY_META_TTL_MS: int(1000, 3650 * DAY_MS, DAY_MS),
    PROCESSOR_CONCURRENCY: int(1, 10_000, 50),
    SHIP_DELAY_MS: int(0, 30 * DAY_MS, 2000),
    DELIVER_DELAY_MS: int(0, 30 * DAY_MS, 3000),
    JOB_ATTEMPTS: int(1, 100, 5),
    OUTBOX_SWEEP_INTERVAL_MS: int(10, 3600_000, 1000),
    OUTBOX_STALE_MS: int(0, DAY_MS, 5000),
    HEALTH_PORT: int(0, 65_535, 9100),
    JOB_LOCK_MS: int(500, 3600_000, 30_000),
    STALLED_INTERVAL_MS: int(100, 3600_000, 30_000),
  })
  .refine((c) => c.HISTORY_META_TTL_MS >= c.HISTORY_TTL_MS, {
    path: ["HISTORY_META_TTL_MS"],
    message: "must be at least HISTORY_TTL_MS",
  });

/**
 * Parses and validates the processor's environment (names and defaults from HELPER_RULES.md).
 * Empty values count as unset. Throws {@link ConfigError} naming every offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== "") input[key] = v.trim();
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`);
    throw new ConfigError(`invalid processor configuration: ${problems.join("; ")}`);
  }
  const c = parsed.data;
  return {
    redisUrl: c.REDIS_URL,
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    historySize: c.HISTORY_SIZE,
    historyTtlMs: c.HISTORY_TTL_MS,
    historyMetaTtlMs: c.HISTORY_META_TTL_MS,
    concurrency: c.PROCESSOR_CONCURRENCY,
    shipDelayMs: c.SHIP_DELAY_MS,
    deliverDelayMs: c.DELIVER_DELAY_MS,
    jobAttempts: c.JOB_ATTEMPTS,
    outboxSweepIntervalMs: c.OUTBOX_SWEEP_INTERVAL_MS,
    outboxStaleMs: c.OUTBOX_STALE_MS,
    healthPort: c.HEALTH_PORT,
    jobLockMs: c.JOB_LOCK_MS,
    stalledIntervalMs: c.STALLED_INTERVAL_MS,
  };
}
