import { isIP } from "node:net";
import { Cluster, Redis } from "ioredis";

/** Connection options as passed to ioredis (its types fight exactOptionalPropertyTypes). */
type ConnOptions = Record<string, unknown>;

/** A Redis connection to a standalone server or a Redis Cluster. */
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

/** One node address of a {@link ParsedRedisUrl}. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/**
 * What a `REDIS_URL` names: one node (`single`) or the seed nodes of a Redis Cluster (`cluster`),
 * with the credentials and TLS setting every connection to it must use.
 */
export interface ParsedRedisUrl {
  kind: "single" | "cluster";
  nodes: RedisNodeAddress[];
  username?: string;
  password?: string;
  /** True for `rediss://`. */
  tls: boolean;
  /** Database number of a single-node URL (`/db` path); a cluster has only db 0. */
  db?: number;
}

const DEFAULT_PORT = 6379;

/** The URL with any credentials replaced, safe to put in an error message or a log. */
function redact(url: string): string {
  return url
    .split(",")
    .map((part) => part.replace(/\/\/.*@/, "//***@"))
    .join(",");
}

function urlError(url: string, why: string): Error {
  return new Error(`REDIS_URL ${JSON.stringify(redact(url))}: ${why}`);
}

interface ParsedNode extends RedisNodeAddress {
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

function parseNode(part: string, whole: string): ParsedNode {
  if (part === "") throw urlError(whole, "has an empty node entry (stray comma?)");
  if (/^redis\+sentinel:/i.test(part)) throw urlError(whole, "redis+sentinel:// is not handled by parseRedisUrl");
  let u: URL;
  try {
    u = new URL(part);
  } catch {
    throw urlError(whole, `node ${JSON.stringify(redact(part))} is not a URL (expected redis://[user:pass@]host:port)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw urlError(whole, `unsupported scheme ${JSON.stringify(u.protocol)} (expected redis:// or rediss://)`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "") throw urlError(whole, `node ${JSON.stringify(redact(part))} has no host`);
  if (u.search !== "" || u.hash !== "") throw urlError(whole, "query parameters and fragments are not supported");
  const port = u.port === "" ? DEFAULT_PORT : Number(u.port);
  if (port < 1) throw urlError(whole, `node ${JSON.stringify(redact(part))} has port 0`);
  const node: ParsedNode = { host, port, tls: u.protocol === "rediss:" };
  if (u.username !== "") node.username = decodeURIComponent(u.username);
  if (u.password !== "") node.password = decodeURIComponent(u.password);
  const path = u.pathname;
  if (path !== "" && path !== "/") {
    const db = path.slice(1);
    if (!/^\d+$/.test(db)) throw urlError(whole, `database ${JSON.stringify(db)} is not a non-negative integer`);
    node.db = Number(db);
  }
  return node;
}

/**
 * Parses a `REDIS_URL`: `redis[s]://[user:pass@]host[:port][/db]` for one node, or several
 * comma-separated node URLs for a Redis Cluster. A cluster URL must use one scheme and one set of
 * credentials (nodes written without credentials share those of the others) and has no `/db`.
 * Errors name REDIS_URL and never echo the password.
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const parts = url.split(",").map((p) => p.trim());
  const nodes = parts.map((p) => parseNode(p, url));
  const first = nodes[0];
  if (first === undefined) throw urlError(url, "names no node");
  const cluster = nodes.length > 1;
  const tls = first.tls;
  if (nodes.some((n) => n.tls !== tls)) throw urlError(url, "mixes redis:// and rediss:// nodes; use one scheme");
  let username: string | undefined;
  let password: string | undefined;
  for (const n of nodes) {
    if (n.username === undefined && n.password === undefined) continue;
    if ((username !== undefined || password !== undefined) && (n.username !== username || n.password !== password)) {
      throw urlError(url, "gives different credentials for different cluster nodes; a cluster has one set");
    }
    username = n.username;
    password = n.password;
  }
  if (cluster && nodes.some((n) => n.db !== undefined)) {
    throw urlError(url, "has a /db path on a cluster node; a Redis Cluster has only db 0, remove the path");
  }
  const parsed: ParsedRedisUrl = {
    kind: cluster ? "cluster" : "single",
    nodes: nodes.map(({ host, port }) => ({ host, port })),
    tls,
  };
  if (username !== undefined) parsed.username = username;
  if (password !== undefined) parsed.password = password;
  if (!cluster && first.db !== undefined) parsed.db = first.db;
  return parsed;
}

/** True when `url` names several nodes (comma-separated): a Redis Cluster. */
export function isClusterUrl(url: string): boolean {
  return url.includes(",");
}

/** `tls` option for a node: SNI and certificate check against its host name (not for an IP). */
function tlsFor(host: string): ConnOptions {
  return isIP(host) === 0 ? { servername: host } : {};
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
 * The one Redis connection factory: a standalone connection for a one-node URL, a Cluster (with
 * sharded subscribers for the `subscriber` role) for a comma-separated list; credentials and TLS
 * from the URL (see {@link parseRedisUrl}). An error listener is always attached.
 */
export function createRedis(url: string, opts: CreateRedisOptions): RedisConnection {
  const parsed = parseRedisUrl(url);
  const options = roleOptions(opts.role, opts.name, opts.commandTimeoutMs ?? 800);
  const autoPipelining = opts.role === "command" && opts.autoPipelining === true;
  let conn: RedisConnection;
  if (parsed.kind === "cluster") {
    conn = createCluster(parsed, options, autoPipelining, opts.role === "subscriber");
  } else {
    const node = parsed.nodes[0] as RedisNodeAddress;
    const single: ConnOptions = { ...options, ...authOptions(parsed), host: node.host, port: node.port };
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
