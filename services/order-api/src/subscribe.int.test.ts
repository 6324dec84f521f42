import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Partitioning, channelStreams, pubsubChannel } from "@orderstream/bus";
import { type ClientReadableStream, type ServiceError, status } from "@grpc/grpc-js";
import { type Order, type OrderFilter, OrderStatus } from "@orderstream/proto";
import { waitUntil } from "@orderstream/testkit";
import {
  type ApiHarness,
  createOrder,
  orderReq,
  processActions,
  startHarness,
  subscribed,
} from "./testing/api-harness.js";

const MAX_PENDING = 50;
let h: ApiHarness;
beforeAll(async () => {
  h = await startHarness({ subscribeMaxPending: MAX_PENDING });
});
afterAll(async () => {
  await h?.close();
});

interface Sub {
  stream: ClientReadableStream<Order>;
  got: Order[];
  error: Promise<ServiceError | undefined>;
}

async function subscribe(filter: Partial<OrderFilter>): Promise<Sub> {
  const stream = h.client.subscribeOrders({ statuses: [], userId: "", sinceOffset: "", ...filter });
  const got: Order[] = [];
  stream.on("data", (o: Order) => got.push(o));
  const error = new Promise<ServiceError | undefined>((resolve) => {
    stream.on("error", (e: ServiceError) => resolve(e));
    stream.on("end", () => resolve(undefined));
  });
  await Promise.race([subscribed(stream), error.then((e) => Promise.reject(e ?? new Error("stream ended")))]);
  return { stream, got, error };
}

const statusesOf = (orders: Order[], id: string) => orders.filter((o) => o.id === id).map((o) => o.status);

async function lifecycle(userId: string, actions: string[]): Promise<string> {
  const order = await createOrder(h.client, orderReq(userId));
  if (actions.length > 0) await processActions(h.client, actions.map((action) => ({ orderId: order.id, action })));
  return order.id;
}

describe("SubscribeOrders", () => {
  it("filters by status names, case-insensitively", async () => {
    const sub = await subscribe({ statuses: ["confirmed", "Shipped"] });
    const id = await lifecycle("filter-user", ["confirm", "process", "ship"]);
    await waitUntil(() => statusesOf(sub.got, id).length === 2, "two filtered events");
    const marker = await lifecycle("filter-user", ["confirm"]);
    await waitUntil(() => statusesOf(sub.got, marker).length === 1, "marker event");
    expect(statusesOf(sub.got, id)).toEqual([OrderStatus.CONFIRMED, OrderStatus.SHIPPED]);
    expect(sub.got.every((o) => o.status === OrderStatus.CONFIRMED || o.status === OrderStatus.SHIPPED)).toBe(true);
    sub.stream.cancel();
  });

  it("filters by user: only that user's orders, both event types", async () => {
    const sub = await subscribe({ userId: "sub-u1" });
    const other = await lifecycle("sub-u2", ["confirm"]);
    const mine = await lifecycle("sub-u1", ["confirm", "cancel"]);
    await waitUntil(() => sub.got.length === 3, "three events of sub-u1");
    expect(sub.got.every((o) => o.userId === "sub-u1")).toBe(true);
    expect(statusesOf(sub.got, mine)).toEqual([OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.CANCELLED]);
    expect(statusesOf(sub.got, other)).toEqual([]);
    sub.stream.cancel();
  });

  it("shares one Redis subscription per channel among all streams of the process", async () => {
    const subs = await Promise.all([
      subscribe({}),
      subscribe({ statuses: ["pending"] }),
      subscribe({}),
      subscribe({ userId: "shared" }),
      subscribe({ userId: "shared", statuses: ["confirmed"] }),
    ]);
    // Subscribers per Redis channel: the user's, and every partition stream of the all-orders channels.
    const streams = [...channelStreams("orders.created", new Partitioning()), ...channelStreams("orders.status", new Partitioning()), ...channelStreams("orders.user.shared", new Partitioning())];
    const numsub = async () => {
      const reply = (await h.r.pubsub("NUMSUB", ...streams.map(pubsubChannel))) as (string | number)[];
      return reply.filter((_, i) => i % 2 === 1).map(Number);
    };
    expect(await numsub()).toEqual(streams.map(() => 1));
    const id = await lifecycle("shared", ["confirm"]);
    await waitUntil(() => subs.every((s) => s.got.some((o) => o.id === id)), "the event at every stream");
    expect(subs.map((s) => statusesOf(s.got, id).length)).toEqual([2, 1, 2, 2, 1]);
    for (const s of subs) s.stream.cancel();
    await waitUntil(async () => (await numsub()).every((v) => v === 0), "subscriptions released");
  });

  it("rejects an unknown status naming statuses[i]", async () => {
    const err = await subscribe({ statuses: ["PENDING", "LOST"] }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toContain("statuses[1]");
  });

  it.each<[string, Partial<OrderFilter>]>([
    ["all orders", {}],
    ["one user", { userId: "resume-user" }],
  ])("resumes a %s stream with since_offset: exactly the missed events, then live", async (_name, filter) => {
    const first = await subscribe(filter);
    const before = await lifecycle("resume-user", ["confirm"]);
    await waitUntil(() => statusesOf(first.got, before).length === 2, "events before the break");
    const token = first.got[first.got.length - 1]?.eventOffset ?? "";
    expect(token).not.toBe("");
    first.stream.cancel();

    const missedA = await lifecycle("resume-user", ["confirm", "process"]);
    const missedB = await lifecycle("resume-user", []);
    const resumed = await subscribe({ ...filter, sinceOffset: token });
    const live = await lifecycle("resume-user", ["cancel"]);
    await waitUntil(() => statusesOf(resumed.got, live).length === 2, "live events after the replay");
    const seen = resumed.got.filter((o) => o.userId === "resume-user").map((o): [string, OrderStatus] => [o.id, o.status]);
    const created = [missedA, missedB, live].map((id): [string, OrderStatus] => [id, OrderStatus.PENDING]);
    const changed: [string, OrderStatus][] = [
      [missedA, OrderStatus.CONFIRMED],
      [missedA, OrderStatus.PROCESSING],
      [live, OrderStatus.CANCELLED],
    ];
    if (filter.userId) {
      // One channel: exactly the publication order.
      expect(seen).toEqual([created[0], changed[0], changed[1], created[1], created[2], changed[2]]);
    } else {
      // Two channels, each carried on partitions: each one's events exactly, each order's in order
      // (orders of different partitions may come in either order); an order's creation before its changes.
      const byId = (list: [string, OrderStatus][]) => [...list].sort((a, b) => a[0].localeCompare(b[0]));
      expect(byId(seen.filter(([, st]) => st === OrderStatus.PENDING))).toEqual(byId(created));
      const changes = seen.filter(([, st]) => st !== OrderStatus.PENDING);
      expect(byId(changes)).toEqual(byId(changed));
      expect(changes.filter(([id]) => id === missedA)).toEqual([changed[0], changed[1]]);
      for (const [id, st] of changed) {
        const at = seen.findIndex(([i, x]) => i === id && x === st);
        expect(seen.findIndex(([i, x]) => i === id && x === OrderStatus.PENDING)).toBeLessThan(at);
      }
    }
    expect(statusesOf(resumed.got, before)).toEqual([]);
    resumed.stream.cancel();
  });

  it("replays more missed events than SUBSCRIBE_MAX_PENDING without cancelling the stream", async () => {
    const first = await subscribe({ userId: "backlog" });
    await lifecycle("backlog", []);
    await waitUntil(() => first.got.length === 1, "first event");
    const token = first.got[0]?.eventOffset ?? "";
    first.stream.cancel();
    const missed = 3 * MAX_PENDING;
    const res = await new Promise<{ orderIds: string[] }>((resolve, reject) => {
      const call = h.client.bulkCreateOrders((err, r) => (err ? reject(err) : resolve(r)));
      for (let i = 0; i < missed; i++) call.write(orderReq("backlog"));
      call.end();
    });
    const cancelledBefore = h.api.stats.slowSubscribersCancelled;
    const resumed = await subscribe({ userId: "backlog", sinceOffset: token });
    await waitUntil(() => resumed.got.length === missed, `${missed} replayed events`);
    expect(resumed.got.map((o) => o.id)).toEqual(res.orderIds);
    const live = await lifecycle("backlog", []);
    await waitUntil(() => resumed.got.some((o) => o.id === live), "live event after the replay");
    expect(h.api.stats.slowSubscribersCancelled).toBe(cancelledBefore);
    resumed.stream.cancel();
  });

  it("ends with DATA_LOSS when history no longer covers since_offset", async () => {
    await lifecycle("gone-user", ["confirm"]);
    const err = await subscribe({ sinceOffset: "nosuchepoch:1|nosuchepoch:1" }).then(
      (s) => s.error,
      (e: ServiceError) => e,
    );
    expect(err?.code).toBe(status.DATA_LOSS);
    expect(err?.details).toContain("refetch");
  });

  it("cancels a subscriber that does not read instead of buffering without bound; a reading one is kept", async () => {
    const slow = await subscribe({ userId: "flood" });
    const fast = await subscribe({ userId: "flood" });
    slow.stream.pause();
    const big = Array.from({ length: 20 }, (_, i) => ({ productId: `p${i}-${"x".repeat(100)}`, quantity: 1, price: 1 }));
    const cancelledBefore = h.api.stats.slowSubscribersCancelled;
    let sent = 0;
    for (let i = 0; i < 100 && h.api.stats.slowSubscribersCancelled === cancelledBefore; i++) {
      await Promise.all(Array.from({ length: 20 }, () => createOrder(h.client, orderReq("flood", big))));
      sent += 20;
      // Paced by the reading subscriber: only the paused one falls behind.
      await waitUntil(() => fast.got.length === sent, `${sent} events at the reading subscriber`);
    }
    expect(h.api.stats.slowSubscribersCancelled).toBe(cancelledBefore + 1);
    slow.stream.resume();
    const err = await slow.error;
    expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err?.details).toContain("too slow");
    expect(slow.got.length).toBeLessThan(sent);
    // The reading subscriber got everything and is still open.
    await waitUntil(() => fast.got.length === sent, `all ${sent} events at the reading subscriber`);
    expect(h.api.stats.subscribers).toBe(1);
    fast.stream.cancel();
    await waitUntil(() => h.api.stats.subscribers === 0, "subscribers released");
    expect((await createOrder(h.client, orderReq("flood"))).status).toBe(OrderStatus.PENDING);
  });
});

describe("SubscribeOrders on a fresh Redis", () => {
  it("resumes from a token issued before orders.status had any history", async () => {
    const fresh = await startHarness();
    try {
      const sub = (filter: Partial<OrderFilter>) => {
        const stream = fresh.client.subscribeOrders({ statuses: [], userId: "", sinceOffset: "", ...filter });
        const got: Order[] = [];
        stream.on("data", (o: Order) => got.push(o));
        stream.on("error", () => undefined);
        return { stream, got, live: subscribed(stream) };
      };
      const first = sub({});
      await first.live;
      const a = await createOrder(fresh.client, orderReq("fresh"));
      await waitUntil(() => first.got.length === 1, "created event");
      const token = first.got[0]?.eventOffset ?? "";
      // `<orders.created offset>|<orders.status offset>`, each composite (every partition's position).
      expect(token).toMatch(/^[a-z0-9]+:1~[0-9.]+\|[a-z0-9]+:0~[0-9.]+$/);
      first.stream.cancel();
      await processActions(fresh.client, [{ orderId: a.id, action: "confirm" }]);
      const b = await createOrder(fresh.client, orderReq("fresh"));
      const resumed = sub({ sinceOffset: token });
      await resumed.live;
      await waitUntil(() => resumed.got.length === 2, "two replayed events");
      expect(resumed.got.map((o) => [o.id, o.status])).toEqual([
        [b.id, OrderStatus.PENDING],
        [a.id, OrderStatus.CONFIRMED],
      ]);
      expect(resumed.got[1]?.eventOffset).toMatch(/^[a-z0-9]+:2~[0-9.]+\|[a-z0-9]+:1~[0-9.]+$/);
      resumed.stream.cancel();
    } finally {
      await fresh.close();
    }
  });
});
