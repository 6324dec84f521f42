import { isIP } from "node:net";
import { Cluster, Redis } from "ioredis";
import { type ParsedRedisUrl, type RedisNodeAddress, parseRedisUrl } from "./redis-url.js";

/** Connection options as passed to ioredis (its types fight exactOptionalPropertyTypes). */
type ConnOptions = Record<string, unknown>;

/** A Redis connection to a standalone server, a Sentinel-managed primary or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/**
 * What a connection is for. `command`: request/response with fail-fast behaviour (no offline
 * queue, short command timeout), so callers answer UNAVAILABLE quickly while Redis is down.
 * `subscriber`: a connection in subscribe mode (sharded subscribers on a Cluster). `bullmq`: as
 * BullMQ requires
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
  /**
   * `command` role only: send the commands issued in one tick as one pipeline (per node on a
   * Cluster), so concurrent callers share round trips. Off by default, and only for plain
   * commands: ioredis routes an auto-pipelined `defineCommand` script whose key count varies by
   * its first argument (the count, not a key), which fails on a Cluster, and a script defined
   * while a pipeline is pending is missing from it.
   */
  autoPipelining?: boolean;
}

/** `tls` option for a node: SNI and certificate check against its host name (not for an IP). */
function tlsFor(host: string): ConnOptions {
  return isIP(host) === 0 ? { servername: host } : {};
}

/**
 * A `READONLY` reply means the node behind the address is a replica now (a demoted primary behind
 * one endpoint, or a primary Sentinel has just replaced): reconnect, which finds the primary again
 * (a Sentinel is asked anew). A command connection fails the command (the caller answers
 * UNAVAILABLE, see redis-errors.ts); the others resend it once reconnected (it was not executed).
 */
function reconnectOnReadonly(role: ConnectionRole): (err: Error) => boolean | 1 | 2 {
  return (err) => (err.message.includes("READONLY") ? (role === "command" ? 1 : 2) : false);
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

function authOptions(parsed: ParsedRedisUrl): ConnOptions {
  const auth: ConnOptions = {};
  if (parsed.username !== undefined) auth.username = parsed.username;
  if (parsed.password !== undefined) auth.password = parsed.password;
  return auth;
}

/**
 * A Cluster whose every connection (node pool, refresher, subscribers, sharded subscribers)
 * uses the URL's credentials and TLS: ioredis builds all of them from `redisOptions` merged
 * with the node's own options. Seed nodes carry their host name as TLS servername; nodes only
 * discovered through CLUSTER SLOTS are checked against the address Redis announces.
 */
function createCluster(parsed: ParsedRedisUrl, options: ConnOptions, autoPipelining: boolean, sharded: boolean): Cluster {
  const { enableOfflineQueue, ...rest } = options;
  const redisOptions: ConnOptions = { ...rest, ...authOptions(parsed) };
  if (parsed.tls) redisOptions.tls = {};
  const nodes = parsed.nodes.map((n) => (parsed.tls ? { ...n, tls: tlsFor(n.host) } : { ...n }));
  return new Cluster(nodes, {
    redisOptions: redisOptions as never,
    enableOfflineQueue: (enableOfflineQueue as boolean | undefined) ?? true,
    enableAutoPipelining: autoPipelining,
    shardedSubscribers: sharded,
  });
}

/**
 * A connection to the primary that the URL's sentinels name, found again after every failover:
 * the failover detector listens for `+switch-master` on the sentinels and reconnects at once
 * (the old primary may accept writes until Sentinel demotes it, seconds later), and the ready
 * check refuses a node whose role is not master. Data-node credentials and TLS from the URL.
 */
function sentinelOptions(parsed: ParsedRedisUrl, options: ConnOptions, role: ConnectionRole): ConnOptions {
  const sentinel: ConnOptions = {
    ...options,
    ...authOptions(parsed),
    sentinels: parsed.nodes.map(({ host, port }) => ({ host, port })),
    name: parsed.masterName,
    role: "master",
    failoverDetector: true,
    // A sentinel that does not answer must not hold up the connection: ask the next one.
    sentinelCommandTimeout: 1000,
    sentinelRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    reconnectOnError: reconnectOnReadonly(role),
  };
  if (parsed.sentinelUsername !== undefined) sentinel.sentinelUsername = parsed.sentinelUsername;
  if (parsed.sentinelPassword !== undefined) sentinel.sentinelPassword = parsed.sentinelPassword;
  if (parsed.tls) {
    sentinel.tls = {};
    sentinel.sentinelTLS = {};
    sentinel.enableTLSForSentinelMode = true;
  }
  return sentinel;
}

/**
 * The one Redis connection factory: a standalone connection for a one-node URL, a Cluster (with
 * sharded subscribers for the `subscriber` role) for a comma-separated list, a Sentinel-managed
 * primary for `redis+sentinel://`; credentials and TLS from the URL (see {@link parseRedisUrl}).
 * Single and Sentinel connections reconnect on a `READONLY` reply. An error listener is always
 * attached.
 */
export function createRedis(url: string, opts: CreateRedisOptions): RedisConnection {
  const parsed = parseRedisUrl(url);
  const options = roleOptions(opts.role, opts.name, opts.commandTimeoutMs ?? 800);
  const autoPipelining = opts.role === "command" && opts.autoPipelining === true;
  let conn: RedisConnection;
  if (parsed.kind === "cluster") {
    conn = createCluster(parsed, options, autoPipelining, opts.role === "subscriber");
  } else if (parsed.kind === "sentinel") {
    const sentinel = sentinelOptions(parsed, options, opts.role);
    if (autoPipelining) sentinel.enableAutoPipelining = true;
    conn = new Redis(sentinel as never);
  } else {
    const node = parsed.nodes[0] as RedisNodeAddress;
    const single: ConnOptions = {
      ...options,
      ...authOptions(parsed),
      host: node.host,
      port: node.port,
      reconnectOnError: reconnectOnReadonly(opts.role),
    };
    if (parsed.db !== undefined) single.db = parsed.db;
    if (parsed.tls) single.tls = tlsFor(node.host);
    if (autoPipelining) single.enableAutoPipelining = true;
    conn = new Redis(single as never);
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
