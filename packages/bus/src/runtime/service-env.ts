import { z } from "zod";
import { parseRedisUrl } from "./redis-url.js";

/** A configuration value that stops start-up; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** An integer variable with bounds and a default (values arrive as strings). */
export function envInt(min: number, max: number, def: number) {
  return z.coerce.number().int().min(min).max(max).default(def);
}

const REDIS_URL_REQUIRED =
  "is required (redis://host:port, comma-separated node URLs for a cluster, or redis+sentinel://host:26379,…/<master-name>)";

/**
 * `REDIS_URL`: `redis://[user:pass@]host:port[/db]` or `rediss://…` (one node), comma-separated
 * node URLs (a Redis Cluster), or `redis+sentinel://[user:pass@]host:port,…/<master-name>`
 * (Sentinel); checked by {@link parseRedisUrl}, whose message names the problem.
 */
export const redisUrlEnv = z
  .string({ error: REDIS_URL_REQUIRED })
  .min(1, REDIS_URL_REQUIRED)
  .superRefine((value, ctx) => {
    try {
      parseRedisUrl(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^REDIS_URL:? */, "") });
    }
  })
  .describe(
    "The Redis to use: redis://[user:pass@]host:port[/db] or rediss://… (one node); comma-separated node URLs (a Redis Cluster); redis+sentinel://[user:pass@]host[:port],…/<master-name> (Sentinel; ?sentinelUsername=…&sentinelPassword=… for the sentinels, rediss+sentinel:// for TLS)",
  );

/**
 * `REDIS_WAIT_REPLICAS` (0 = off, the default) and `REDIS_WAIT_TIMEOUT_MS`: creates and
 * transitions answer only after `WAIT` confirmed them on that many replicas (on a Redis Cluster:
 * of the master that ran the write).
 */
export const waitEnv = {
  REDIS_WAIT_REPLICAS: envInt(0, 64, 0).describe(
    "Creates and transitions answer only after WAIT confirmed them on this many replicas (0 = off); fewer within the timeout answers UNAVAILABLE, the write stays",
  ),
  REDIS_WAIT_TIMEOUT_MS: envInt(1, 10_000, 500).describe("The WAIT timeout of REDIS_WAIT_REPLICAS"),
};

/** The parsed REDIS_WAIT_* variables as the order store's `waitReplicas` (undefined when off). */
export function waitFromEnv(c: {
  REDIS_WAIT_REPLICAS: number;
  REDIS_WAIT_TIMEOUT_MS: number;
}): { replicas: number; timeoutMs: number } | undefined {
  return c.REDIS_WAIT_REPLICAS > 0 ? { replicas: c.REDIS_WAIT_REPLICAS, timeoutMs: c.REDIS_WAIT_TIMEOUT_MS } : undefined;
}

/** `LOG_LEVEL`: a pino level. */
export const logLevelEnv = z
  .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
  .default("info")
  .describe("The pino log level (JSON lines on stdout)");

/**
 * Parses the variables `names` from `env` with `schema` (empty values count as unset) and throws
 * a {@link ConfigError} naming every offending variable of `service`.
 */
export function parseEnv<T>(service: string, schema: z.ZodType<T>, names: readonly string[], env: NodeJS.ProcessEnv): T {
  const input: Record<string, string> = {};
  for (const key of names) {
    const v = env[key];
    if (v !== undefined && v.trim() !== "") input[key] = v.trim();
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`);
    throw new ConfigError(`invalid ${service} configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** Loads a service's configuration, or ends the process with exit code 2 and the message. */
export function loadConfigOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
