import { Cluster } from "ioredis";
import type { RedisConnection } from "./redis-connection.js";
import { guardRedis } from "./redis-errors.js";

/** One Redis master's memory, from `INFO memory`. */
export interface RedisMemory {
  /** `host:port` of the master (every master of a Redis Cluster, the one node otherwise). */
  node: string;
  usedBytes: number;
  /** `maxmemory`; 0 = no limit (then Redis grows until the host or container runs out). */
  maxBytes: number;
}

const field = (info: string, name: string): number => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);

/** The memory used and the `maxmemory` of every master behind `conn` (one `INFO memory` each). */
export async function redisMemory(conn: RedisConnection): Promise<RedisMemory[]> {
  const nodes = conn instanceof Cluster ? conn.nodes("master") : [conn];
  return guardRedis(() =>
    Promise.all(
      nodes.map(async (n) => {
        const info = await n.info("memory");
        const o = n.options;
        // A Sentinel connection has no fixed host: the master's name stands for it.
        const node = o.host && !o.sentinels ? `${o.host}:${o.port ?? 6379}` : (o.name ?? "redis");
        return { node, usedBytes: field(info, "used_memory"), maxBytes: field(info, "maxmemory") };
      }),
    ),
  );
}
