import type { Redis } from "ioredis";
import { OUTBOX_KEY, historyKey } from "@orderstream/bus";

/** The statuses an order passes through after PENDING when the processors auto-advance it. */
export const LIFECYCLE = ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"];

/** Every order id stored in Redis (SCAN `os:order:*`) with its status. */
export async function storedOrders(redis: Redis): Promise<Map<string, string>> {
  const ids: string[] = [];
  let cursor = "0";
  for (let i = 0; i < 100_000; i++) {
    const [next, keys] = await redis.scan(cursor, "MATCH", "os:order:*", "COUNT", 1000);
    for (const k of keys) ids.push(k);
    cursor = next;
    if (cursor === "0") break;
  }
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const pipe = redis.pipeline();
    const group = ids.slice(i, i + 500);
    for (const k of group) pipe.hget(k, "s");
    const replies = (await pipe.exec()) ?? [];
    group.forEach((k, j) => out.set(k.slice("os:order:{".length, -1), String(replies[j]?.[1] ?? "")));
  }
  return out;
}

/** How many stored orders are not DELIVERED yet. */
export async function undelivered(redis: Redis): Promise<number> {
  let n = 0;
  for (const s of (await storedOrders(redis)).values()) if (s !== "DELIVERED") n++;
  return n;
}

/** Events per order id in a channel's history: the list of statuses (status channel) or a count. */
async function eventsByOrder(redis: Redis, channel: string): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  const entries = await redis.xrange(historyKey(channel), "-", "+");
  for (const [, fields] of entries) {
    const frame = JSON.parse(fields[fields.indexOf("f") + 1] ?? "{}") as { data: { id: string; status: string } };
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
  outboxLeft: number;
  /** Orders whose events are not exactly one `order.created` and one `order.status` per transition, in order. */
  bad: number;
  examples: string[];
}

/** Checks every stored order: DELIVERED, one created event, exactly one status event per transition in order. */
export async function checkLifecycles(redis: Redis): Promise<LifecycleCheck> {
  const orders = await storedOrders(redis);
  const status = await eventsByOrder(redis, "orders.status");
  const created = await eventsByOrder(redis, "orders.created");
  const r: LifecycleCheck = { orders: orders.size, delivered: 0, statusEvents: 0, outboxLeft: await redis.zcard(OUTBOX_KEY), bad: 0, examples: [] };
  for (const list of status.values()) r.statusEvents += list.length;
  for (const [id, s] of orders) {
    if (s === "DELIVERED") r.delivered++;
    const st = status.get(id) ?? [];
    const cr = created.get(id) ?? [];
    const ok = s === "DELIVERED" && cr.length === 1 && st.length === LIFECYCLE.length && st.every((x, i) => x === LIFECYCLE[i]);
    if (ok) continue;
    r.bad++;
    if (r.examples.length < 5) r.examples.push(`${id}: status ${s}, created events ${cr.length}, status events [${st.join(",")}]`);
  }
  for (const id of status.keys()) {
    if (!orders.has(id)) {
      r.bad++;
      if (r.examples.length < 5) r.examples.push(`${id}: events for an order that is not stored`);
    }
  }
  return r;
}
