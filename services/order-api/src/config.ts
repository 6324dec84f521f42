import { z } from "zod";

/** order-api's configuration, parsed once from the environment at start-up. */
export interface OrderApiConfig {
  redisUrl: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  shutdownTimeoutMs: number;
  historySize: number;
  historyTtlMs: number;
  historyMetaTtlMs: number;
  grpcHost: string;
  /** 0 = an ephemeral port (tests). */
  grpcPort: number;
  maxMessageBytes: number;
  maxBulkOrders: number;
  bulkBatchSize: number;
  idempotencyTtlMs: number;
  /** Messages buffered for one SubscribeOrders stream before it is cancelled as too slow. */
  subscribeMaxPending: number;
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
    GRPC_HOST: z.string().min(1).default("0.0.0.0"),
    GRPC_PORT: int(0, 65_535, 50051),
    MAX_MESSAGE_BYTES: int(1024, 512 * 1024 * 1024, 4 * 1024 * 1024),
    MAX_BULK_ORDERS: int(1, 100_000_000, 100_000),
    BULK_BATCH_SIZE: int(1, 100_000, 500),
    IDEMPOTENCY_TTL_MS: int(1000, 365 * DAY_MS, DAY_MS),
    SUBSCRIBE_MAX_PENDING: int(1, 10_000_000, 1000),
  })
  .refine((c) => c.HISTORY_META_TTL_MS >= c.HISTORY_TTL_MS, {
    path: ["HISTORY_META_TTL_MS"],
    message: "must be at least HISTORY_TTL_MS",
  });

/**
 * Parses and validates order-api's environment (names and defaults from HELPER_RULES.md).
 * Empty values count as unset. Throws {@link ConfigError} naming every offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OrderApiConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== "") input[key] = v.trim();
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`);
    throw new ConfigError(`invalid order-api configuration: ${problems.join("; ")}`);
  }
  const c = parsed.data;
  return {
    redisUrl: c.REDIS_URL,
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    historySize: c.HISTORY_SIZE,
    historyTtlMs: c.HISTORY_TTL_MS,
    historyMetaTtlMs: c.HISTORY_META_TTL_MS,
    grpcHost: c.GRPC_HOST,
    grpcPort: c.GRPC_PORT,
    maxMessageBytes: c.MAX_MESSAGE_BYTES,
    maxBulkOrders: c.MAX_BULK_ORDERS,
    bulkBatchSize: c.BULK_BATCH_SIZE,
    idempotencyTtlMs: c.IDEMPOTENCY_TTL_MS,
    subscribeMaxPending: c.SUBSCRIBE_MAX_PENDING,
  };
}
