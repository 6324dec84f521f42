import { type ConnectionRole, type RedisConnection, createRedis, waitReady } from "@orderstream/bus";
import type { Logger } from "pino";

/** Command timeout of the fail-fast command connection (as createRedis's default). */
export const COMMAND_TIMEOUT_MS = 800;

/** Command timeout of the connection that writes BulkCreateOrders batches. */
const BULK_COMMAND_TIMEOUT_MS = 10_000;

/** The Redis connections order-api holds. */
export interface ApiConnections {
  /** Fail-fast commands of the order store (unary calls answer UNAVAILABLE in < 1 s). */
  cmd: RedisConnection;
  /**
   * Bulk batches and history reads: pipelines of hundreds of scripts, replies of thousands of
   * entries. Fails fast when Redis is down (no offline queue) but gives them longer to complete.
   */
  bulk: RedisConnection;
  /** Subscribe mode, for the channel feed. */
  sub: RedisConnection;
  /** BullMQ's (offline queue on; adds are bounded by a timeout in OrderQueue). */
  bull: RedisConnection;
  all: RedisConnection[];
}

/**
 * Opens order-api's connections and waits until all are ready (rejects after `timeoutMs`). Each
 * logs one warning per outage, not one per reconnect attempt, and a line when it is restored.
 */
export async function connectRedis(
  url: string,
  log: Logger,
  timeoutMs = 10_000,
  commandTimeoutMs = COMMAND_TIMEOUT_MS,
): Promise<ApiConnections> {
  const connect = (role: ConnectionRole, name: string, commandTimeoutMs?: number): RedisConnection => {
    let down = false;
    const conn = createRedis(url, {
      role,
      name: `order-api:${name}`,
      onError: (err) => {
        if (!down) log.warn({ connection: name, err: err.message }, "redis connection error; reconnecting");
        down = true;
      },
      ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }),
    });
    conn.on("ready", () => {
      if (down) log.info({ connection: name }, "redis connection restored");
      down = false;
    });
    return conn;
  };
  const cmd = connect("command", "cmd", commandTimeoutMs);
  const bulk = connect("command", "bulk", BULK_COMMAND_TIMEOUT_MS);
  const sub = connect("subscriber", "sub");
  const bull = connect("bullmq", "queue");
  const all = [cmd, bulk, sub, bull];
  try {
    await Promise.all(all.map((c) => waitReady(c, timeoutMs)));
  } catch (err) {
    for (const c of all) c.disconnect();
    throw err;
  }
  return { cmd, bulk, sub, bull, all };
}
