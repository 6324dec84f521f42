import { Cluster, type Redis } from "ioredis";
import { Partitioning, dueCount, readChannelHistory } from "@orderstream/bus";

/** The statuses an order passes through after PENDING when the processors auto-advance it. */
export const LIFECYCLE = ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"];

/** A Redis client for assertions: one node or a Redis Cluster. */
export type AnyRedis = Redis | Cluster;

const ORDER_KEY = /^os:\{[^}]+\}:order:(.+)$/;

/** Every order stored in Redis (SCAN of every master for the order hashes) with status and user. */
export async function storedOrders(redis: AnyRedis): Promise<Map<string, { status: string; user: string }>> {
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes("master") : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    for (let i = 0; i < 100_000; i++) {
      const [next, found] = await node.scan(cursor, "MATCH", "os:{*}:order:*", "COUNT", 1000);
      keys.push(...found);
      cursor = next;
      if (cursor === "0") break;
    }
  }
  const out = new Map<string, { status: string; user: string }>();
  for (let i = 0; i < keys.length; i += 500) {
    const group = keys.slice(i, i + 500);
    const replies = await Promise.all(group.map((k) => redis.hmget(k, "s", "u")));
    group.forEach((k, j) => {
      const id = ORDER_KEY.exec(k)?.[1];
      const [s, u] = replies[j] ?? [];
      if (id) out.set(id, { status: s ?? "", user: u ?? "" });
    });
  }
  return out;
}

/** How many stored orders are not DELIVERED yet. */
export async function undelivered(redis: AnyRedis): Promise<number> {
  let n = 0;
  for (const o of (await storedOrders(redis)).values()) if (o.status !== "DELIVERED") n++;
  return n;
}

/** Events per order id in a channel's history: the statuses, in stream order. */
async function eventsByOrder(redis: AnyRedis, channel: string, partitions: Partitioning): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  for (const f of await readChannelHistory(redis, channel, partitions)) {
    const frame = JSON.parse(f) as { data: { id: string; status: string } };
    const list = map.get(frame.data.id) ?? [];
    list.push(frame.data.status);
    map.set(frame.data.id, list);
  }
  return map;
}

/** The result of {@link checkLifecycles}. */
export interface LifecycleCheck {
  orders: number;
  delivered: number;
  statusEvents: number;
  userEvents: number;
  /** Orders still in their partition's due set (a step still owed to them). */
  dueLeft: number;
  /** Orders whose events are not exactly one per step on every channel they belong to, in order. */
  bad: number;
  examples: string[];
}

const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Checks every stored order against every channel it belongs to: DELIVERED; `orders.created`
 * holds its PENDING event once; `orders.status` holds one event per transition, in order; its
 * user's channel holds all five, in order, once each. Also: no events for orders not stored.
 */
export async function checkLifecycles(redis: AnyRedis, partitions = new Partitioning()): Promise<LifecycleCheck> {
  const orders = await storedOrders(redis);
  const status = await eventsByOrder(redis, "orders.status", partitions);
  const created = await eventsByOrder(redis, "orders.created", partitions);
  const users = new Map<string, Map<string, string[]>>();
  for (const { user } of orders.values()) if (!users.has(user)) users.set(user, await eventsByOrder(redis, `orders.user.${user}`, partitions));
  const r: LifecycleCheck = {
    orders: orders.size,
    delivered: 0,
    statusEvents: 0,
    userEvents: 0,
    dueLeft: await dueCount(redis, partitions),
    bad: 0,
    examples: [],
  };
  for (const list of status.values()) r.statusEvents += list.length;
  for (const m of users.values()) for (const list of m.values()) r.userEvents += list.length;
  for (const [id, { status: s, user }] of orders) {
    if (s === "DELIVERED") r.delivered++;
    const st = status.get(id) ?? [];
    const cr = created.get(id) ?? [];
    const us = users.get(user)?.get(id) ?? [];
    if (s === "DELIVERED" && same(cr, ["PENDING"]) && same(st, LIFECYCLE) && same(us, ["PENDING", ...LIFECYCLE])) continue;
    r.bad++;
    if (r.examples.length < 5) r.examples.push(`${id}: status ${s}, created [${cr.join(",")}], status [${st.join(",")}], user [${us.join(",")}]`);
  }
  for (const id of [...status.keys(), ...created.keys()]) {
    if (!orders.has(id)) {
      r.bad++;
      if (r.examples.length < 5) r.examples.push(`${id}: events for an order that is not stored`);
    }
  }
  return r;
}
