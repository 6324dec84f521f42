import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "@orderstream/proto";
import calculateSlot from "cluster-key-slot";
import { parseEventFrame } from "@orderstream/wire";
import { waitUntil } from "@orderstream/testkit";
import { type BusFixture, TOPOLOGIES, busFixture } from "../testing/bus-fixture.js";
import { channelStreams, readChannelHistory } from "../read/channel-history.js";
import { dueKey, historyKey, idempotencyKey, metaKey, orderKey, pubsubChannel } from "../layout/keys.js";
import type { StoredBatch } from "./order-store.js";
import { RedisUnavailableError } from "../runtime/redis-errors.js";

const req = (userId = "alice") => ({ userId, items: [{ productId: "sku", quantity: 2, price: 0.1 }] });

describe.each(TOPOLOGIES)("OrderStore on %s Redis", (topology) => {
  let f: BusFixture;
  const batches: StoredBatch[] = [];
  beforeAll(async () => {
    f = await busFixture(topology);
  }, 60_000);
  afterAll(async () => {
    await f.close();
  });

  async function framesOf(channel: string) {
    return (await readChannelHistory(f.cmd, channel, f.store.partitions)).map((frame) => parseEventFrame(frame));
  }

  /** Every channel an order's events belong to holds exactly `statuses`, in order, once each. */
  async function expectEvents(orderId: string, userId: string, statuses: string[]) {
    const user = (await framesOf(`orders.user.${userId}`)).filter((e) => e.data.id === orderId).map((e) => e.data.status);
    const created = (await framesOf("orders.created")).filter((e) => e.data.id === orderId).map((e) => e.data.status);
    const status = (await framesOf("orders.status")).filter((e) => e.data.id === orderId).map((e) => e.data.status);
    expect(user).toEqual(statuses);
    expect(created).toEqual(statuses.slice(0, 1));
    expect(status).toEqual(statuses.slice(1));
  }

  it("stores an order PENDING with its total and emits order.created on both channels", async () => {
    const { store } = await f.newStore({ onBatchStored: (b) => batches.push(b) });
    const { order, created } = await store.create(req("u-create"));
    expect(created).toBe(true);
    expect(order.status).toBe(OrderStatus.PENDING);
    expect(order.total).toBe(0.2);
    expect(await store.get(order.id)).toEqual(order);
    expect(await store.owner(order.id)).toBe("u-create");
    expect(batches.find((b) => b.orderIds.includes(order.id))).toBeDefined();
    await expectEvents(order.id, "u-create", ["PENDING"]);
  });

  it("returns the same order for the same idempotency key, under 20 concurrent calls", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => f.store.create(req("u-idem"), "key-1")));
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await framesOf("orders.user.u-idem")).toHaveLength(1);
    const again = await f.store.create(req("u-idem"), "key-1");
    expect(again).toMatchObject({ created: false, order: { id: results[0]?.order.id } });
  });

  it("applies each transition once under 50 concurrent conflicting actions", async () => {
    const { order } = await f.store.create(req("u-cas"));
    const results = await Promise.all(Array.from({ length: 50 }, () => f.store.transition(order.id, "confirm")));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const { order: mixed } = await f.store.create(req("u-cas2"));
    const actions = Array.from({ length: 50 }, (_, i): "confirm" | "cancel" => (i % 2 === 0 ? "confirm" : "cancel"));
    const mixedResults = await Promise.all(actions.map((a) => f.store.transition(mixed.id, a)));
    const wins = mixedResults.filter((r) => r.ok).map((r) => (r.ok ? r.order.status : -1));
    expect(new Set(wins).size).toBe(wins.length);
    expect((await f.store.get(mixed.id))?.status).toBe(OrderStatus.CANCELLED);
    await expectEvents(mixed.id, "u-cas2", ["PENDING", ...wins.map((s) => OrderStatus[s] as string)]);
  });

  it("refuses illegal moves and unknown orders without emitting", async () => {
    const { order } = await f.store.create(req("u-illegal"));
    for (const a of ["confirm", "process", "ship", "deliver"] as const) expect((await f.store.transition(order.id, a)).ok).toBe(true);
    const refused = await f.store.transition(order.id, "cancel");
    expect(refused).toMatchObject({ ok: false, code: "invalid_transition" });
    if (!refused.ok && refused.code === "invalid_transition") expect(refused.order.status).toBe(OrderStatus.DELIVERED);
    expect(await f.store.transition("no-such-order", "confirm")).toEqual({ ok: false, code: "not_found" });
    await expectEvents(order.id, "u-illegal", ["PENDING", "CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"]);
  });

  it("gives consecutive offsets per channel", async () => {
    const { order } = await f.store.create(req("u-seq"));
    await f.store.transition(order.id, "confirm");
    await f.store.transition(order.id, "process");
    const offsets = (await framesOf("orders.user.u-seq")).map((e) => e.offset);
    expect(offsets.map((o) => Number(o.split(":")[1]))).toEqual([1, 2, 3]);
    expect(new Set(offsets.map((o) => o.split(":")[0])).size).toBe(1);
  });

  it("creates many orders, one script per partition, each order in its user's partition", async () => {
    const seen: StoredBatch[] = [];
    const { store } = await f.newStore({ onBatchStored: (b) => seen.push(b) });
    const orders = await store.createMany(Array.from({ length: 450 }, (_, i) => req(`bulk-${i % 5}`)));
    expect(new Set(orders.map((o) => o.id)).size).toBe(450);
    // in the order asked for, although the scripts ran per partition
    expect(orders.map((o) => o.userId)).toEqual(Array.from({ length: 450 }, (_, i) => `bulk-${i % 5}`));
    expect(seen.flatMap((b) => b.orderIds).sort()).toEqual(orders.map((o) => o.id).sort());
    for (const o of orders) expect(store.partitions.of(o.id)).toBe(store.partitions.ofUser(o.userId));
    for (const b of seen) for (const id of b.orderIds) expect(store.partitions.of(id)).toBe(b.partition);
    expect((await framesOf("orders.user.bulk-3")).length).toBe(90);
  });

  it("keeps an order, its user's channel and its due entry in one slot", async () => {
    const { order } = await f.store.create(req("u-slot"));
    const tag = f.store.partitions.tag(f.store.partitions.of(order.id));
    const [stream] = channelStreams("orders.user.u-slot", f.store.partitions) as [string];
    const slots = [
      orderKey(tag, order.id),
      historyKey(stream),
      metaKey(stream),
      pubsubChannel(stream),
      dueKey(tag),
      idempotencyKey(tag, "u-slot", "k"),
    ];
    expect(new Set(slots.map((k) => calculateSlot(k))).size).toBe(1);
  });

  it("puts every order with a step due in its partition's due set, until it is terminal", async () => {
    const { order } = await f.store.create(req("u-due"));
    const key = dueKey(f.store.partitions.tag(f.store.partitions.of(order.id)));
    const score = async () => f.cmd.zscore(key, order.id);
    const created = Number(await score());
    expect(Math.abs(created - Date.now())).toBeLessThan(5000);
    // The processor says when the next step is due; a client's action keeps the entry as it is.
    await f.store.transitionOne({ orderId: order.id, action: "confirm", dueInMs: 0 });
    await f.store.transitionOne({ orderId: order.id, action: "process", dueInMs: 60_000 });
    expect(Number(await score()) - created).toBeGreaterThanOrEqual(59_000);
    const shippedDue = await score();
    await f.store.transition(order.id, "ship");
    expect(await score()).toBe(shippedDue);
    await f.store.transition(order.id, "deliver");
    expect(await score()).toBeNull();
    const { order: stopped } = await f.store.create(req("u-due"));
    await f.store.transitionOne({ orderId: stopped.id, action: "confirm", dueInMs: "none" });
    expect(await f.cmd.zscore(key, stopped.id)).toBeNull();
  });

  it("puts an event on its owner's channel when the caller names another user", async () => {
    const { order } = await f.store.create(req("u-owner"));
    const r = await f.store.transitionOne({ orderId: order.id, action: "confirm", userId: "u-someone-else" });
    expect(r.ok).toBe(true);
    await expectEvents(order.id, "u-owner", ["PENDING", "CONFIRMED"]);
    expect(await framesOf("orders.user.u-someone-else")).toEqual([]);
  });

  it.runIf(topology === "single")("fails fast with RedisUnavailableError while Redis is down, and works again after", async () => {
    const redis = f.redis;
    if (!redis) throw new Error("single-node fixture without a redis-server");
    await redis.stop();
    const t0 = Date.now();
    await expect(f.store.create(req())).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - t0).toBeLessThan(1000);
    await redis.start();
    await waitUntil(
      async () => {
        try {
          await f.store.create(req());
          return true;
        } catch {
          return false;
        }
      },
      "create after restart",
      10_000,
    );
  });
});
