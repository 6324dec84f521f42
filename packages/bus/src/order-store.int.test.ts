import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "@orderstream/proto";
import { parseEventFrame } from "@orderstream/domain";
import { type BusFixture, busFixture } from "./bus-fixture.js";
import { OUTBOX_KEY, historyKey } from "./keys.js";
import { RedisUnavailableError } from "./redis-errors.js";

let f: BusFixture;
beforeAll(async () => {
  f = await busFixture();
});
afterAll(async () => {
  await f.close();
});

const req = (userId = "alice") => ({ userId, items: [{ productId: "sku", quantity: 2, price: 0.1 }] });

async function framesOf(channel: string) {
  const entries = await f.cmd.xrange(historyKey(channel), "-", "+");
  return entries.map(([, fields]) => parseEventFrame(fields[1] as string));
}

describe("OrderStore", () => {
  it("stores an order PENDING with its total, queues it in the outbox and emits order.created twice", async () => {
    const { order, created } = await f.store.create(req("u-create"));
    expect(created).toBe(true);
    expect(order.status).toBe(OrderStatus.PENDING);
    expect(order.total).toBe(0.2);
    expect(await f.store.get(order.id)).toEqual(order);
    expect(await f.cmd.zscore(OUTBOX_KEY, order.id)).not.toBeNull();
    const all = (await framesOf("orders.created")).filter((e) => e.data.id === order.id);
    const mine = await framesOf("orders.user.u-create");
    expect(all).toHaveLength(1);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.data.status).toBe("PENDING");
    expect(mine[0]?.channel).toBe("orders.user.u-create");
  });

  it("returns the same order for the same idempotency key, under 20 concurrent calls", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => f.store.create(req("u-idem"), "key-1")));
    const ids = new Set(results.map((r) => r.order.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await framesOf("orders.user.u-idem")).toHaveLength(1);
  });

  it("applies each transition once under 50 concurrent conflicting actions", async () => {
    const { order } = await f.store.create(req("u-cas"));
    const results = await Promise.all(Array.from({ length: 50 }, () => f.store.transition(order.id, "confirm")));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const { order: mixed } = await f.store.create(req("u-cas"));
    const actions = Array.from({ length: 50 }, (_, i): "confirm" | "cancel" => (i % 2 === 0 ? "confirm" : "cancel"));
    const mixedResults = await Promise.all(actions.map((a) => f.store.transition(mixed.id, a)));
    const wins = mixedResults.filter((r) => r.ok).map((r) => (r.ok ? r.order.status : -1));
    expect(new Set(wins).size).toBe(wins.length);
    expect((await f.store.get(mixed.id))?.status).toBe(OrderStatus.CANCELLED);
    const statusEvents = (await framesOf("orders.user.u-cas")).filter((e) => e.type === "order.status");
    expect(statusEvents).toHaveLength(1 + wins.length);
  });

  it("refuses illegal moves and unknown orders without emitting", async () => {
    const { order } = await f.store.create(req("u-illegal"));
    for (const a of ["confirm", "process", "ship", "deliver"] as const) expect((await f.store.transition(order.id, a)).ok).toBe(true);
    const refused = await f.store.transition(order.id, "cancel");
    expect(refused).toMatchObject({ ok: false, code: "invalid_transition" });
    if (!refused.ok && refused.code === "invalid_transition") expect(refused.order.status).toBe(OrderStatus.DELIVERED);
    expect(await f.store.transition("no-such-order", "confirm")).toEqual({ ok: false, code: "not_found" });
    const statuses = (await framesOf("orders.user.u-illegal")).map((e) => `${e.type}:${e.data.status}`);
    expect(statuses).toEqual([
      "order.created:PENDING",
      "order.status:CONFIRMED",
      "order.status:PROCESSING",
      "order.status:SHIPPED",
      "order.status:DELIVERED",
    ]);
  });

  it("gives consecutive offsets per channel", async () => {
    const { order } = await f.store.create(req("u-seq"));
    await f.store.transition(order.id, "confirm");
    await f.store.transition(order.id, "process");
    const offsets = (await framesOf("orders.user.u-seq")).map((e) => e.offset);
    const seqs = offsets.map((o) => Number(o.split(":")[1]));
    expect(seqs).toEqual([1, 2, 3]);
    expect(new Set(offsets.map((o) => o.split(":")[0])).size).toBe(1);
  });

  it("creates many orders in one pipeline and lists the outbox", async () => {
    const orders = await f.store.createMany(Array.from({ length: 250 }, (_, i) => req(`bulk-${i % 5}`)));
    expect(new Set(orders.map((o) => o.id)).size).toBe(250);
    await f.store.markQueued(orders.slice(0, 200).map((o) => o.id));
    await new Promise((r) => setTimeout(r, 5));
    const left = await f.store.unqueued(0, 10_000);
    expect(left).toEqual(expect.arrayContaining(orders.slice(200).map((o) => o.id)));
    expect(left).not.toContain(orders[0]?.id);
  });

  it("fails fast with RedisUnavailableError while Redis is down, and works again after", async () => {
    await f.redis.stop();
    const t0 = Date.now();
    await expect(f.store.create(req())).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - t0).toBeLessThan(1000);
    await f.redis.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await f.store.create(req());
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
});
