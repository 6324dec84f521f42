import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "@orderstream/proto";
import { orderJsonPrefix, parseEventFrame } from "@orderstream/domain";
import { waitUntil } from "@orderstream/testkit";
import { type BusFixture, TOPOLOGIES, busFixture } from "./bus-fixture.js";
import { ORDER_TRANSITION_LUA } from "./event-scripts.js";
import { readChannelHistory } from "./channel-history.js";
import { firehoseChannel, historyKey, metaKey, orderKey, pendingKey, pubsubChannel } from "./keys.js";
import { markBatchesQueued } from "./order-queues.js";
import { OrderRepair } from "./order-repair.js";
import type { StoredBatch } from "./order-store.js";
import { RedisUnavailableError } from "./redis-errors.js";

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
    await f.settled();
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

  it("creates many orders in batches, one job-outbox entry per batch, spread over partitions", async () => {
    const seen: StoredBatch[] = [];
    const { store, conn } = await f.newStore({ onBatchStored: (b) => seen.push(b) });
    const orders = await store.createMany(Array.from({ length: 450 }, (_, i) => req(`bulk-${i % 5}`)));
    expect(new Set(orders.map((o) => o.id)).size).toBe(450);
    expect(seen.flatMap((b) => b.orderIds).sort()).toEqual(orders.map((o) => o.id).sort());
    expect(new Set(seen.map((b) => b.partition)).size).toBe(5);
    for (const b of seen) for (const id of b.orderIds) expect(store.partitions.of(id)).toBe(b.partition);
    const repair = new OrderRepair(conn, store);
    const first = seen[0] as StoredBatch;
    expect((await repair.unqueuedBatches(first.partition, 0, 100)).map((b) => b.batchId)).toContain(first.batchId);
    await markBatchesQueued(conn, store.partitions, [first]);
    expect((await repair.unqueuedBatches(first.partition, 0, 100)).map((b) => b.batchId)).not.toContain(first.batchId);
  });

  it("completes events whose writer died after the order step, exactly once, after the lease", async () => {
    const { store, conn } = await f.newStore({ leaseMs: 2000 });
    const { order } = await store.create(req("u-crash"));
    // The order step alone, as a writer that died right after it leaves it.
    conn.defineCommand("testTransition", { lua: ORDER_TRANSITION_LUA });
    const tag = store.partitions.tag(store.partitions.of(order.id));
    const raw = conn as typeof conn & { testTransition(n: number, ...a: (string | number)[]): Promise<unknown[]> };
    const stream = firehoseChannel("orders.status", tag);
    const streamKeys = [historyKey(stream), metaKey(stream), pubsubChannel(stream)];
    const streamArgs = ["orders.status", "newepoch", 1000, 60_000, topology === "cluster" ? "SPUBLISH" : "PUBLISH"];
    for (const [from, to] of [["PENDING", "CONFIRMED"], ["CONFIRMED", "PROCESSING"]]) {
      await raw.testTransition(5, pendingKey(tag), orderKey(tag, order.id), ...streamKeys, 2000, 1, order.id, from as string, to as string, ...streamArgs);
    }
    // The all-orders stream got each event with its order step; the user's channel waits for the repair.
    const userStatuses = async () => (await framesOf("orders.user.u-crash")).filter((e) => e.data.id === order.id).map((e) => e.data.status);
    expect(await userStatuses()).toEqual(["PENDING"]);
    expect((await framesOf("orders.status")).filter((e) => e.data.id === order.id).map((e) => e.data.status)).toEqual(["CONFIRMED", "PROCESSING"]);
    const repair = new OrderRepair(conn, store);
    const p = store.partitions.of(order.id);
    expect(await repair.completeStale(p, 100)).toBe(0); // lease still live
    await waitUntil(async () => (await repair.completeStale(p, 100)) > 0, "claimed after the lease", 10_000);
    await expectEvents(order.id, "u-crash", ["PENDING", "CONFIRMED", "PROCESSING"]);
    // A retry of the same events (a writer that only lost the ack) appends nothing more.
    await waitUntil(async () => (await repair.pendingSize(p)) === 0, "acked", 5000);
    const ship = await store.transition(order.id, "ship");
    expect(ship.ok).toBe(true);
    await expectEvents(order.id, "u-crash", ["PENDING", "CONFIRMED", "PROCESSING", "SHIPPED"]);
  });

  it("appends a retried event once, and refuses appends after the lease deadline", async () => {
    const { order } = await f.store.create(req("u-retry"));
    const p = f.store.partitions.of(order.id);
    const base = { orderId: order.id, partition: p, userId: "u-retry", prefix: "", firstVersion: 1, statuses: ["PENDING"] };
    const prefix = orderJsonPrefix(order);
    await f.store.writer.complete([{ ...base, prefix, deadline: Date.now() + 60_000 }]);
    await f.store.writer.complete([{ ...base, prefix, deadline: Date.now() + 60_000 }]);
    expect(await framesOf("orders.user.u-retry")).toHaveLength(1);
    await f.store.writer.complete([{ ...base, prefix, firstVersion: 7, statuses: ["CANCELLED"], deadline: Date.now() - 10_000 }]);
    expect(await framesOf("orders.user.u-retry")).toHaveLength(1);
  });

  it.runIf(topology === "single")("fails fast with RedisUnavailableError while Redis is down, and works again after", async () => {
    const redis = f.redis;
    if (!redis) throw new Error("single-node fixture without a redis-server");
    await redis.stop();
    const t0 = Date.now();
    await expect(f.store.create(req())).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - t0).toBeLessThan(1000);
    await redis.start();
    await waitUntil(async () => {
      try {
        await f.store.create(req());
        return true;
      } catch {
        return false;
      }
    }, "create after restart", 10_000);
  });
});
