import { dueKey } from "../layout/keys.js";
import type { Partitioning } from "../layout/partitions.js";
import type { RedisConnection } from "../runtime/redis-connection.js";
import { guardRedis } from "../runtime/redis-errors.js";

/** An order whose next step was due at `dueAt` (epoch ms, the partition master's clock). */
export interface DueOrder {
  orderId: string;
  dueAt: number;
}

/**
 * Orders of partition `p` whose step was due before `until` (epoch ms): their job is late or gone
 * (lost with a failed-over primary, or never queued by an order-api that died). Oldest first.
 */
export async function overdueOrders(
  conn: RedisConnection,
  partitions: Partitioning,
  p: number,
  until: number,
  page: { offset: number; limit: number },
): Promise<DueOrder[]> {
  const key = dueKey(partitions.tag(p));
  const flat = await guardRedis(() => conn.zrangebyscore(key, "-inf", until, "WITHSCORES", "LIMIT", page.offset, page.limit));
  const out: DueOrder[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ orderId: String(flat[i]), dueAt: Number(flat[i + 1]) });
  return out;
}

/** How many orders of partition `p` have had a step due for more than `graceMs` (stuck, unless the due sweep is about to queue them). */
export async function overdueCount(conn: RedisConnection, partitions: Partitioning, p: number, graceMs: number): Promise<number> {
  return guardRedis(() => conn.zcount(dueKey(partitions.tag(p)), "-inf", Date.now() - graceMs));
}

/** How many orders have a step due, over every partition (for checks and tests). */
export async function dueCount(conn: RedisConnection, partitions: Partitioning): Promise<number> {
  const counts = await guardRedis(() => Promise.all(partitions.all().map((p) => conn.zcard(dueKey(partitions.tag(p))))));
  return counts.reduce((a, b) => a + b, 0);
}
