import { hostname } from "node:os";
import { readFileSync } from "node:fs";
import { type AuthKeys, authEnvFields, authEnvProblem, authKeysFromEnv, hasAuthKeys } from "@orderstream/auth";
import { ConfigError, envInt, historyEnv, historyTtlRule, logLevelEnv, parseEnv, partitionEnv, redisUrlEnv } from "@orderstream/bus";
import { z } from "zod";
import { RESERVED_DESCRIPTORS, openFileLimit } from "./open-file-limit.js";

import { COMPRESSION_MODES, type CompressionMode } from "./compression.js";

export { ConfigError };

const boolFromEnv = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off", ""])
  .transform((v) => ["true", "1", "yes", "on"].includes(v));

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) => envInt(min, max, def);

/** Most edge processes one supervisor runs. */
const MAX_WORKERS = 64;

/**
 * EDGE_WORKERS=auto: enough processes that MAX_CONNECTIONS fit under each one's open-file limit
 * (the kernel spreads connections over SO_REUSEPORT listeners by hash, within a few percent).
 * Without a known limit, one process.
 */
export function autoWorkers(maxConnections: number, fileLimit = openFileLimit()): number {
  if (fileLimit === undefined) return 1;
  const perProcess = Math.max(1, fileLimit - RESERVED_DESCRIPTORS);
  return Math.min(MAX_WORKERS, Math.max(1, Math.ceil(maxConnections / perProcess)));
}

const fields = {
  REDIS_URL: redisUrlEnv,
  PARTITIONS: partitionEnv.PARTITIONS,
  LOG_LEVEL: logLevelEnv,
  EDGE_HOST: z.string().min(1).default("0.0.0.0").describe("Listen address of /ws, /healthz, /readyz, /metrics and the dashboard"),
  EDGE_PORT: int(9001, 0, 65535).describe("Listen port of /ws, /healthz, /readyz, /metrics and the dashboard"),
  NODE_ID: z
    .string()
    .min(1)
    .default(hostname())
    .meta({ description: "The node's name in logs and metrics (the node label)", defaultText: "the host name" }),
  ORDER_API_URL: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, "must be host:port")
    .default("127.0.0.1:50051")
    .describe("order-api's host:port, where process_order is forwarded"),
  ORDER_API_TLS: boolFromEnv.default(false).describe("TLS towards order-api, verified with the system's roots"),
  ORDER_API_TLS_CA: z.string().transform((path, ctx) => {
    try {
      return readFileSync(path);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `cannot read ${path}: ${(err as Error).message}` });
      return z.NEVER;
    }
  }).optional().describe("A CA file for order-api's certificate (implies ORDER_API_TLS)"),
  AUTH_JWT_SECRET: authEnvFields.AUTH_JWT_SECRET.meta({
    description: "HS256 secrets, comma-separated; any verifies (rotation). Required unless AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE is set",
    secret: true,
  }),
  AUTH_JWKS_URL: authEnvFields.AUTH_JWKS_URL,
  AUTH_PUBLIC_KEY_FILE: authEnvFields.AUTH_PUBLIC_KEY_FILE,
  AUTH_JWT_ALGORITHMS: authEnvFields.AUTH_JWT_ALGORITHMS,
  AUTH_JWKS_COOLDOWN_MS: authEnvFields.AUTH_JWKS_COOLDOWN_MS,
  AUTH_JWKS_CACHE_MS: authEnvFields.AUTH_JWKS_CACHE_MS,
  ANONYMOUS_ALL_ORDERS: boolFromEnv.default(false).describe("Anonymous sockets may subscribe to the all-orders channels (local demo only)"),
  EDGE_CONNECT_TIMEOUT_MS: int(10_000, 100, 600_000).describe(
    "A socket without a token must send connect this soon (anonymous access off), else it is closed with 4001",
  ),
  EDGE_ALLOWED_ORIGINS: z
    .string()
    .default("")
    .transform((v, ctx) => {
      const list = v.split(",").map((o) => o.trim()).filter((o) => o !== "");
      for (const o of list)
        if (o !== "null" && !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(o.replace(/\/$/, "")))
          ctx.addIssue({ code: "custom", message: `${JSON.stringify(o)} is not an origin (scheme://host[:port], or null)` });
      return list;
    })
    .meta({
      description:
        "Comma-separated origins (https://app.example.com) allowed to open a socket from a browser; others get HTTP 403 (no Origin header: allowed)",
      defaultText: "any origin",
    }),
  EDGE_VALIDATE_FRAMES: boolFromEnv
    .default(false)
    .describe("Check every outgoing frame against its JSON Schema and exit (code 70) on a mismatch: for the test suite, not production"),
  EDGE_COMPRESSION: z
    .enum(COMPRESSION_MODES)
    .default("off")
    .describe(
      "permessage-deflate on frames to clients that offer it (others get plain frames): off, shared (no memory per socket, each frame deflated alone) or dedicated-3kb … dedicated-256kb (a zlib window per socket); costs edge CPU per delivery, see docs/benchmarks.md",
    ),
  MAX_CONNECTIONS: int(100_000, 1).describe("Sockets per node (503 at upgrade beyond; split between EDGE_WORKERS)"),
  MAX_CHANNELS_PER_CONN: int(128, 1).describe("Channels per socket"),
  MAX_PAYLOAD_BYTES: int(65_536, 1024).describe("Largest inbound frame; a bigger one closes the socket"),
  MAX_BACKPRESSURE_BYTES: int(1_048_576, 1024).describe("Bytes buffered for one socket before it is closed as a slow reader (4004)"),
  IDLE_TIMEOUT_S: int(120, 8, 960).describe("Seconds without a frame before a socket is closed; pings keep idle sockets alive"),
  RATE_LIMIT_PER_S: z.coerce.number().positive().default(100).describe("Inbound frames per second per socket"),
  RATE_LIMIT_BURST: int(200, 1).describe("Inbound frames a socket may send in a burst"),
  DRAIN_WINDOW_MS: int(10_000, 0).describe("On SIGTERM, sockets are closed spread over this window (at least 1000 ms below SHUTDOWN_TIMEOUT_MS)"),
  SHUTDOWN_TIMEOUT_MS: int(25_000, 100).describe("Graceful stop deadline: the drain, then the process exits whatever is left"),
  HISTORY_SIZE: historyEnv.HISTORY_SIZE,
  HISTORY_TTL_MS: historyEnv.HISTORY_TTL_MS,
  HISTORY_META_TTL_MS: historyEnv.HISTORY_META_TTL_MS,
  EDGE_WORKERS: z
    .union([z.literal("auto"), z.coerce.number().int().min(1).max(MAX_WORKERS)])
    .default(1)
    .meta({
      description:
        "Edge processes sharing EDGE_PORT (SO_REUSEPORT) under one supervisor that restarts a dead one, serves the group's /metrics and drains them all on SIGTERM; `auto`: as many as MAX_CONNECTIONS needs under the open-file limit (`ulimit -n`), at most 64",
      defaultText: "1",
    }),
  EDGE_WORKER_INDEX: z
    .coerce.number()
    .int()
    .min(0)
    .max(63)
    .optional()
    .meta({ description: "Set by the EDGE_WORKERS supervisor in each worker it starts, not by people", internal: true }),
};
const ENV_NAMES = Object.keys(fields);
/** The edge's environment variables: names, bounds, defaults and meanings (docs/configuration.md is generated from it). */
export const envSchema = z.object(fields).refine((c) => c.DRAIN_WINDOW_MS + 1000 <= c.SHUTDOWN_TIMEOUT_MS, {
  path: ["DRAIN_WINDOW_MS"],
  message: "must be at least 1000 ms shorter than SHUTDOWN_TIMEOUT_MS (the drain runs inside the shutdown deadline)",
}).refine(...historyTtlRule).superRefine((c, ctx) => {
  if (!hasAuthKeys(c))
    ctx.addIssue({ code: "custom", path: ["AUTH_JWT_SECRET"], message: "is required (or set AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE)" });
  const p = authEnvProblem(c);
  if (p) ctx.addIssue({ code: "custom", path: [p.path], message: p.message });
});

/** The edge node's configuration, parsed once at start-up from the environment. */
export interface EdgeConfig {
  redisUrl: string;
  logLevel: string;
  host: string;
  port: number;
  nodeId: string;
  orderApiUrl: string;
  /** The keys socket tokens are verified with (AUTH_*). */
  authKeys: AuthKeys;
  /**
   * The HS256 secret the edge signs its short-lived service token for order-api with (the first
   * of AUTH_JWT_SECRET); undefined without one: the ProcessOrders stream then carries no token.
   */
  serviceTokenSecret: string | undefined;
  /** TLS towards order-api: undefined = plaintext; `ca` undefined = the system's roots. */
  orderApiTls: { ca: Buffer | undefined } | undefined;
  anonymousAllOrders: boolean;
  /** EDGE_CONNECT_TIMEOUT_MS: how long a socket without a token has to send `connect` (anonymous access off). */
  connectTimeoutMs: number;
  /** EDGE_ALLOWED_ORIGINS, normalized (lowercase, no trailing slash); undefined = any Origin. */
  allowedOrigins: ReadonlySet<string> | undefined;
  /** EDGE_VALIDATE_FRAMES: check every outgoing frame against its JSON Schema and exit on a mismatch (tests). */
  validateFrames: boolean;
  /** EDGE_COMPRESSION: permessage-deflate towards clients that offer it ("off" = never). */
  compression: CompressionMode;
  maxConnections: number;
  maxChannelsPerConn: number;
  maxPayloadBytes: number;
  maxBackpressureBytes: number;
  idleTimeoutS: number;
  rateLimitPerS: number;
  rateLimitBurst: number;
  drainWindowMs: number;
  shutdownTimeoutMs: number;
  /** Frames kept in memory per channel for resumes (the history size). */
  historySize: number;
  /** PARTITIONS: the write path's partitions (to find an order's keys for `process_order`). */
  partitions: number;
  /** EDGE_WORKERS: edge processes sharing the port (more than 1: this process supervises them). */
  workers: number;
  /** EDGE_WORKER_INDEX: set by the supervisor in each worker it starts (not for people to set). */
  workerIndex: number | undefined;
}

/** Parses and validates the edge's environment variables (names and defaults: the README's Configuration table). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  const c = parseEnv("edge", envSchema, ENV_NAMES, env);
  return {
    redisUrl: c.REDIS_URL,
    logLevel: c.LOG_LEVEL,
    host: c.EDGE_HOST,
    port: c.EDGE_PORT,
    nodeId: c.NODE_ID,
    orderApiUrl: c.ORDER_API_URL,
    authKeys: authKeysFromEnv(c),
    serviceTokenSecret: c.AUTH_JWT_SECRET?.[0],
    orderApiTls: c.ORDER_API_TLS || c.ORDER_API_TLS_CA !== undefined ? { ca: c.ORDER_API_TLS_CA } : undefined,
    anonymousAllOrders: c.ANONYMOUS_ALL_ORDERS,
    connectTimeoutMs: c.EDGE_CONNECT_TIMEOUT_MS,
    allowedOrigins: c.EDGE_ALLOWED_ORIGINS.length > 0 ? new Set(c.EDGE_ALLOWED_ORIGINS.map(normalizeOrigin)) : undefined,
    validateFrames: c.EDGE_VALIDATE_FRAMES,
    compression: c.EDGE_COMPRESSION,
    maxConnections: c.MAX_CONNECTIONS,
    maxChannelsPerConn: c.MAX_CHANNELS_PER_CONN,
    maxPayloadBytes: c.MAX_PAYLOAD_BYTES,
    maxBackpressureBytes: c.MAX_BACKPRESSURE_BYTES,
    idleTimeoutS: c.IDLE_TIMEOUT_S,
    rateLimitPerS: c.RATE_LIMIT_PER_S,
    rateLimitBurst: c.RATE_LIMIT_BURST,
    drainWindowMs: c.DRAIN_WINDOW_MS,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    historySize: c.HISTORY_SIZE,
    partitions: c.PARTITIONS,
    workers: c.EDGE_WORKERS === "auto" ? autoWorkers(c.MAX_CONNECTIONS) : c.EDGE_WORKERS,
    workerIndex: c.EDGE_WORKER_INDEX,
  };
}

/** An origin as compared: lowercase (browsers send a lowercase scheme and host), no trailing slash. */
export function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/$/, "");
}
