import {
  ConfigError,
  type HistoryOptions,
  envInt,
  historyEnv,
  partitionEnv,
  historyFromEnv,
  historyTtlRule,
  logLevelEnv,
  parseEnv,
  redisUrlEnv,
  waitEnv,
  waitFromEnv,
  waitTopologyRule,
} from "@orderstream/bus";
import { z } from "zod";

export { ConfigError };

/** order-api's configuration, parsed once from the environment at start-up. */
export interface OrderApiConfig {
  redisUrl: string;
  /** REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: writes confirmed by WAIT; undefined = off. */
  waitReplicas?: { replicas: number; timeoutMs: number } | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  shutdownTimeoutMs: number;
  history: HistoryOptions;
  /** PARTITIONS: the write path's partitions (the same in every service). */
  partitions: number;
  /** EVENT_LEASE_MS: how long a writer holds its half-done events before the repair sweep may. */
  eventLeaseMs: number;
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

const int = envInt;
const DAY_MS = 24 * 3600_000;

const schema = z
  .object({
    REDIS_URL: redisUrlEnv,
    REDIS_WAIT_REPLICAS: waitEnv.REDIS_WAIT_REPLICAS,
    REDIS_WAIT_TIMEOUT_MS: waitEnv.REDIS_WAIT_TIMEOUT_MS,
    LOG_LEVEL: logLevelEnv,
    SHUTDOWN_TIMEOUT_MS: int(100, 10 * 60_000, 10_000),
    HISTORY_SIZE: historyEnv.HISTORY_SIZE,
    HISTORY_TTL_MS: historyEnv.HISTORY_TTL_MS,
    HISTORY_META_TTL_MS: historyEnv.HISTORY_META_TTL_MS,
    PARTITIONS: partitionEnv.PARTITIONS,
    EVENT_LEASE_MS: partitionEnv.EVENT_LEASE_MS,
    GRPC_HOST: z.string().min(1).default("0.0.0.0"),
    GRPC_PORT: int(0, 65_535, 50051),
    MAX_MESSAGE_BYTES: int(1024, 512 * 1024 * 1024, 4 * 1024 * 1024),
    MAX_BULK_ORDERS: int(1, 100_000_000, 100_000),
    BULK_BATCH_SIZE: int(1, 100_000, 500),
    IDEMPOTENCY_TTL_MS: int(1000, 365 * DAY_MS, DAY_MS),
    SUBSCRIBE_MAX_PENDING: int(1, 10_000_000, 1000),
  })
  .refine(...historyTtlRule)
  .refine(...waitTopologyRule);

/**
 * Parses and validates order-api's environment (names and defaults from HELPER_RULES.md).
 * Empty values count as unset. Throws {@link ConfigError} naming every offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OrderApiConfig {
  const c = parseEnv("order-api", schema, Object.keys(schema.shape), env);
  return {
    redisUrl: c.REDIS_URL,
    waitReplicas: waitFromEnv(c),
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    history: historyFromEnv(c),
    partitions: c.PARTITIONS,
    eventLeaseMs: c.EVENT_LEASE_MS,
    grpcHost: c.GRPC_HOST,
    grpcPort: c.GRPC_PORT,
    maxMessageBytes: c.MAX_MESSAGE_BYTES,
    maxBulkOrders: c.MAX_BULK_ORDERS,
    bulkBatchSize: c.BULK_BATCH_SIZE,
    idempotencyTtlMs: c.IDEMPOTENCY_TTL_MS,
    subscribeMaxPending: c.SUBSCRIBE_MAX_PENDING,
  };
}
