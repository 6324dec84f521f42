/**
 * `REDIS_URL`, the one variable for every Redis topology: one node, a Redis Cluster (its seed
 * nodes, comma-separated) or a Sentinel-managed primary. Parsed here once, for config checks and
 * for the connection factory; errors name REDIS_URL and never echo a password.
 */

/** One node address of a {@link ParsedRedisUrl}. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/**
 * What a `REDIS_URL` names: one node (`single`), the seed nodes of a Redis Cluster (`cluster`), or
 * the sentinels watching a primary (`sentinel`: `nodes` are the sentinels, `masterName` the group),
 * with the credentials and TLS setting every connection to the data nodes must use.
 */
export interface ParsedRedisUrl {
  kind: "single" | "cluster" | "sentinel";
  nodes: RedisNodeAddress[];
  username?: string;
  password?: string;
  /** True for `rediss://` (and `rediss+sentinel://`: data nodes and sentinels alike). */
  tls: boolean;
  /** Database number of a single-node URL (`/db` path); a cluster has only db 0. */
  db?: number;
  /** Sentinel only: the master group name the sentinels monitor. */
  masterName?: string;
  /** Sentinel only: credentials of the sentinels themselves (`?sentinelUsername=&sentinelPassword=`). */
  sentinelUsername?: string;
  sentinelPassword?: string;
}

const DEFAULT_PORT = 6379;
/** The port a sentinel listens on when the URL names none. */
export const DEFAULT_SENTINEL_PORT = 26379;

/** The URL with any credentials replaced, safe to put in an error message or a log. */
export function redactRedisUrl(url: string): string {
  return url
    .split(",")
    .map((part) => part.replace(/\/\/.*@/, "//***@").replace(/(sentinelPassword=)[^&#]*/gi, "$1***"))
    .join(",");
}

function urlError(url: string, why: string): Error {
  return new Error(`REDIS_URL ${JSON.stringify(redactRedisUrl(url))}: ${why}`);
}

interface ParsedNode extends RedisNodeAddress {
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

function parseNode(part: string, whole: string): ParsedNode {
  if (part === "") throw urlError(whole, "has an empty node entry (stray comma?)");
  let u: URL;
  try {
    u = new URL(part);
  } catch {
    throw urlError(whole, `node ${JSON.stringify(redactRedisUrl(part))} is not a URL (expected redis://[user:pass@]host:port)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw urlError(whole, `unsupported scheme ${JSON.stringify(u.protocol)} (expected redis://, rediss:// or redis+sentinel://)`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "") throw urlError(whole, `node ${JSON.stringify(redactRedisUrl(part))} has no host`);
  if (u.search !== "" || u.hash !== "") throw urlError(whole, "query parameters and fragments are not supported");
  const port = u.port === "" ? DEFAULT_PORT : Number(u.port);
  if (port < 1) throw urlError(whole, `node ${JSON.stringify(redactRedisUrl(part))} has port 0`);
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

/** `host[:port]` or `[ipv6][:port]` of one sentinel. */
function parseSentinelAddress(entry: string, whole: string): RedisNodeAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(entry);
  if (!m) throw urlError(whole, `sentinel ${JSON.stringify(entry)} is not host[:port]`);
  const port = m[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[3]);
  if (port < 1 || port > 65_535) throw urlError(whole, `sentinel ${JSON.stringify(entry)} has port ${port} (1-65535)`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/**
 * `redis+sentinel://[user:pass@]host[:port],host[:port],…/<master-name>[?sentinelUsername=…&sentinelPassword=…]`
 * (`rediss+sentinel://` for TLS). user:pass are the data nodes' credentials; the sentinels' own
 * come from the query, if they need any.
 */
function parseSentinelUrl(url: string): ParsedRedisUrl {
  const m = /^(rediss?)\+sentinel:\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url.trim());
  if (!m) throw urlError(url, "is not redis+sentinel://[user:pass@]host:port,host:port,…/<master-name>");
  const [, scheme, authority = "", path = "", query = ""] = m;
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const hosts = at === -1 ? authority : authority.slice(at + 1);
  const masterName = decodeURIComponent(path.replace(/^\//, ""));
  if (masterName === "")
    throw urlError(url, "names no master group: add /<master-name> after the sentinels (redis+sentinel://host:26379/mymaster)");
  if (masterName.includes("/"))
    throw urlError(url, `master name ${JSON.stringify(masterName)} contains "/"; a sentinel URL has no /db path`);
  const entries = hosts.split(",").map((h) => h.trim());
  if (entries.some((h) => h === "")) throw urlError(url, "has an empty sentinel entry (stray comma?)");
  const parsed: ParsedRedisUrl = {
    kind: "sentinel",
    nodes: entries.map((e) => parseSentinelAddress(e, url)),
    tls: scheme?.toLowerCase() === "rediss",
    masterName,
  };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    const user = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
    const pass = colon === -1 ? "" : decodeURIComponent(userinfo.slice(colon + 1));
    if (user !== "") parsed.username = user;
    if (pass !== "") parsed.password = pass;
  }
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === "sentinelUsername") parsed.sentinelUsername = value;
    else if (key === "sentinelPassword") parsed.sentinelPassword = value;
    else throw urlError(url, `unknown parameter ${JSON.stringify(key)} (known: sentinelUsername, sentinelPassword)`);
  }
  return parsed;
}

/**
 * Parses a `REDIS_URL`: `redis[s]://[user:pass@]host[:port][/db]` for one node, several
 * comma-separated node URLs for a Redis Cluster (one scheme and one set of credentials; nodes
 * written without credentials share those of the others; no `/db`), or
 * `redis+sentinel://[user:pass@]host[:port],…/<master-name>` for Sentinel (default port 26379).
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  if (/^\s*rediss?\+sentinel:/i.test(url)) return parseSentinelUrl(url);
  const parts = url.split(",").map((p) => p.trim());
  if (parts.some((p) => /^rediss?\+sentinel:/i.test(p))) {
    throw urlError(url, "mixes a redis+sentinel:// URL with node URLs; list the sentinels inside one redis+sentinel:// URL");
  }
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

/**
 * True when `url` names a Redis Cluster (sharded pub/sub, per-slot grouping). A Sentinel URL lists
 * several sentinels but is one primary: false.
 */
export function isClusterUrl(url: string): boolean {
  return parseRedisUrl(url).kind === "cluster";
}
