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
} from "@orderstream/bus";
import { readFileSync } from "node:fs";
import { type AuthKeys, authEnvFields, authEnvProblem, authKeysFromEnv, hasAuthKeys } from "@orderstream/auth";
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
  grpcHost: string;
  /** 0 = an ephemeral port (tests). */
  grpcPort: number;
  /** METRICS_PORT: the HTTP port of /metrics, /healthz and /readyz (0 = an ephemeral port, tests). */
  metricsPort: number;
  maxMessageBytes: number;
  maxBulkOrders: number;
  bulkBatchSize: number;
  idempotencyTtlMs: number;
  /** Messages buffered for one SubscribeOrders stream before it is cancelled as too slow. */
  subscribeMaxPending: number;
  /** ORDER_API_AUTH=jwt: the keys bearer tokens are verified with (the edge's); undefined = off. */
  authKeys: AuthKeys | undefined;
  /** GRPC_TLS_CERT / GRPC_TLS_KEY (PEM, read at start-up); undefined = plaintext. */
  tls: { certChain: Buffer; privateKey: Buffer } | undefined;
}

/** A file path whose contents are read now; a missing or unreadable file names the variable. */
const pemFile = z.string().transform((path, ctx): Buffer => {
  try {
    return readFileSync(path);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `cannot read ${path}: ${(err as Error).message}` });
    return z.NEVER;
  }
});

const int = envInt;
const DAY_MS = 24 * 3600_000;

/** order-api's environment variables: names, bounds, defaults and meanings (docs/configuration.md is generated from it). */
export const envSchema = z
  .object({
    REDIS_URL: redisUrlEnv,
    REDIS_WAIT_REPLICAS: waitEnv.REDIS_WAIT_REPLICAS,
    REDIS_WAIT_TIMEOUT_MS: waitEnv.REDIS_WAIT_TIMEOUT_MS,
    LOG_LEVEL: logLevelEnv,
    SHUTDOWN_TIMEOUT_MS: int(100, 10 * 60_000, 10_000).describe(
      "Graceful stop deadline: streams end, then the process exits whatever is left",
    ),
    HISTORY_SIZE: historyEnv.HISTORY_SIZE,
    HISTORY_TTL_MS: historyEnv.HISTORY_TTL_MS,
    HISTORY_META_TTL_MS: historyEnv.HISTORY_META_TTL_MS,
    PARTITIONS: partitionEnv.PARTITIONS,
    GRPC_HOST: z.string().min(1).default("0.0.0.0").describe("gRPC listen address"),
    GRPC_PORT: int(0, 65_535, 50051).describe("gRPC listen port"),
    METRICS_PORT: int(0, 65_535, 9464).describe("HTTP port of /metrics, /healthz and /readyz (docs/metrics.md)"),
    MAX_MESSAGE_BYTES: int(1024, 512 * 1024 * 1024, 4 * 1024 * 1024).describe("gRPC send and receive message limit"),
    MAX_BULK_ORDERS: int(1, 100_000_000, 100_000).describe("Requests per BulkCreateOrders stream"),
    BULK_BATCH_SIZE: int(1, 100_000, 500).describe("Orders per pipelined write of BulkCreateOrders"),
    IDEMPOTENCY_TTL_MS: int(1000, 365 * DAY_MS, DAY_MS).describe("How long an idempotency-key is remembered"),
    SUBSCRIBE_MAX_PENDING: int(1, 10_000_000, 1000).describe(
      "Messages buffered for one SubscribeOrders stream before it is cancelled as too slow",
    ),
    ORDER_API_AUTH: z
      .enum(["off", "jwt"], { error: "must be off or jwt" })
      .default("off")
      .describe("jwt: a bearer token on every OrderService call (production); off: open (the local demo)"),
    AUTH_JWT_SECRET: authEnvFields.AUTH_JWT_SECRET.meta({
      description:
        "HS256 secrets, comma-separated; any verifies (rotation). With ORDER_API_AUTH=jwt: this, AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE",
      secret: true,
    }),
    AUTH_JWKS_URL: authEnvFields.AUTH_JWKS_URL,
    AUTH_PUBLIC_KEY_FILE: authEnvFields.AUTH_PUBLIC_KEY_FILE,
    AUTH_JWT_ALGORITHMS: authEnvFields.AUTH_JWT_ALGORITHMS,
    AUTH_JWKS_COOLDOWN_MS: authEnvFields.AUTH_JWKS_COOLDOWN_MS,
    AUTH_JWKS_CACHE_MS: authEnvFields.AUTH_JWKS_CACHE_MS,
    GRPC_TLS_CERT: pemFile.optional().describe("PEM certificate chain file; with GRPC_TLS_KEY, gRPC is served over TLS"),
    GRPC_TLS_KEY: pemFile.optional().describe("PEM private key file of GRPC_TLS_CERT"),
  })
  .refine(...historyTtlRule)
  .superRefine((c, ctx) => {
    if (c.ORDER_API_AUTH === "jwt" && !hasAuthKeys(c))
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_JWT_SECRET"],
        message: "is required when ORDER_API_AUTH=jwt (or set AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE)",
      });
    const p = authEnvProblem(c);
    if (p) ctx.addIssue({ code: "custom", path: [p.path], message: p.message });
    if ((c.GRPC_TLS_CERT === undefined) !== (c.GRPC_TLS_KEY === undefined))
      ctx.addIssue({
        code: "custom",
        path: [c.GRPC_TLS_CERT === undefined ? "GRPC_TLS_CERT" : "GRPC_TLS_KEY"],
        message: "GRPC_TLS_CERT and GRPC_TLS_KEY go together: set both (TLS) or neither (plaintext)",
      });
  });

/**
 * Parses and validates order-api's environment (names and defaults: the README's Configuration table).
 * Empty values count as unset. Throws {@link ConfigError} naming every offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OrderApiConfig {
  const c = parseEnv("order-api", envSchema, Object.keys(envSchema.shape), env);
  return {
    redisUrl: c.REDIS_URL,
    waitReplicas: waitFromEnv(c),
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    history: historyFromEnv(c),
    partitions: c.PARTITIONS,
    grpcHost: c.GRPC_HOST,
    grpcPort: c.GRPC_PORT,
    metricsPort: c.METRICS_PORT,
    maxMessageBytes: c.MAX_MESSAGE_BYTES,
    maxBulkOrders: c.MAX_BULK_ORDERS,
    bulkBatchSize: c.BULK_BATCH_SIZE,
    idempotencyTtlMs: c.IDEMPOTENCY_TTL_MS,
    subscribeMaxPending: c.SUBSCRIBE_MAX_PENDING,
    authKeys: c.ORDER_API_AUTH === "jwt" ? authKeysFromEnv(c) : undefined,
    tls: c.GRPC_TLS_CERT && c.GRPC_TLS_KEY ? { certChain: c.GRPC_TLS_CERT, privateKey: c.GRPC_TLS_KEY } : undefined,
  };
}
