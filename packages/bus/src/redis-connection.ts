import { Cluster, Redis } from "ioredis";

/** Connection options as passed to ioredis (its types fight exactOptionalPropertyTypes). */
type ConnOptions = Record<string, unknown>;

/** A Redis connection to a standalone server or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/**
 * What a connection is for. `command`: request/response with fail-fast behaviour (no offline
 * queue, short command timeout), so callers answer UNAVAILABLE quickly while Redis is down.
 * `subscriber`: a connection in subscribe mode. `bullmq`: as BullMQ requires
 * (`maxRetriesPerRequest: null`, offline queue on).
 */
export type ConnectionRole = "command" | "subscriber" | "bullmq";

/** Options of {@link createRedis}. */
export interface CreateRedisOptions {
  role: ConnectionRole;
  /** Shown in `CLIENT LIST` and in logs. */
  name: string;
  /** Called with every connection error; errors are never swallowed silently. */
  onError?: (err: Error) => void;
  /** Command timeout for `command` connections. */
  commandTimeoutMs?: number;
}

/** True when `url` names several nodes (comma-separated): a Redis Cluster. */
export function isClusterUrl(url: string): boolean {
  return url.includes(",");
}

function roleOptions(role: ConnectionRole, name: string, commandTimeoutMs: number): ConnOptions {
  const common: ConnOptions = {
    connectionName: name,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    connectTimeout: 2000,
  };
  if (role === "command") {
    return { ...common, enableOfflineQueue: false, commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 1 };
  }
  if (role === "subscriber") return { ...common, maxRetriesPerRequest: null };
  return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
}

/**
 * The one Redis connection factory: a standalone connection for a `redis://` URL, a Cluster
 * (with sharded subscribers) for a comma-separated list. An error listener is always attached.
 */
export function createRedis(url: string, opts: CreateRedisOptions): RedisConnection {
  const options = roleOptions(opts.role, opts.name, opts.commandTimeoutMs ?? 800);
  let conn: RedisConnection;
  if (isClusterUrl(url)) {
    const nodes = url.split(",").map((u) => {
      const parsed = new URL(u.trim());
      return { host: parsed.hostname, port: Number(parsed.port || 6379) };
    });
    const { enableOfflineQueue, ...redisOptions } = options;
    conn = new Cluster(nodes, {
      redisOptions: redisOptions as never,
      enableOfflineQueue: (enableOfflineQueue as boolean | undefined) ?? true,
      shardedSubscribers: opts.role === "subscriber",
    });
  } else {
    conn = new Redis(url, options as never);
  }
  conn.on("error", (err: Error) => opts.onError?.(err));
  return conn;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export function waitReady(conn: RedisConnection, timeoutMs = 10_000): Promise<void> {
  if (conn.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.off("ready", onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${conn.status})`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    conn.once("ready", onReady);
  });
}

/** Closes a connection, waiting for QUIT when it is up and disconnecting otherwise. */
export async function closeRedis(conn: RedisConnection): Promise<void> {
  if (conn.status === "end") return;
  try {
    if (conn.status === "ready") await conn.quit();
    else conn.disconnect();
  } catch {
    conn.disconnect();
  }
}
