import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeSocket, make, settle } from "./fake-socket.test-helper.js";
import type { OrderEvent } from "./protocol.js";
import type { SubscriptionState } from "./subscription.js";

const order = (id: string, status = "PENDING") => ({ id, userId: "u1", items: [], total: 0, status, createdAt: "2026-01-01T00:00:00Z" });
const ev = (channel: string, offset: string, id = "o1") => ({ type: "order.created", channel, offset, data: order(id) });

describe("subscriptions (in-memory socket)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  it("goes subscribing -> subscribed, delivers each event once and in order, and ready() resolves", async () => {
    const { client } = make();
    const sub = client.subscribe("orders.created");
    const states: SubscriptionState[] = [];
    sub.on("state", (s) => states.push(s));
    const got: string[] = [];
    sub.on("event", (e) => got.push(e.offset));
    expect(sub.state).toBe("subscribing");
    let ready = false;
    void sub.ready().then(() => (ready = true));
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    expect(s.sent).toEqual([{ type: "subscribe", channels: ["orders.created"], id: 1 }]);
    for (const o of ["e:1", "e:2"]) s.receive(ev("orders.created", o)); // catch-up may come before the reply
    s.subscribed("orders.created", "e:2");
    await settle();
    expect(ready).toBe(true);
    for (const o of ["e:2", "e:1", "e:3"]) s.receive(ev("orders.created", o));
    s.receive(ev("orders.status", "e:9")); // not subscribed: ignored
    expect(got).toEqual(["e:1", "e:2", "e:3"]);
    expect(states).toEqual(["subscribed"]);
    expect(sub.offset).toBe("e:3");
    expect(client.subscribe("orders.created")).toBe(sub); // one object per channel
    client.close();
    expect(sub.state).toBe("subscribing"); // waits for the next connection
  });

  it("sends one frame per subscription, several in flight, each answered by its id in any order", async () => {
    const { client, events } = make();
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    const a = client.subscribe("orders.user.a");
    const b = client.subscribe("orders.user.b");
    const c = client.subscribe("orders.user.c");
    expect(s.sent.map((f) => [f["channels"], f.id])).toEqual([
      [["orders.user.a"], 1],
      [["orders.user.b"], 2],
      [["orders.user.c"], 3],
    ]);
    s.subscribed("orders.user.c", ":0");
    s.answer(
      "subscribe",
      { type: "error", error: { code: "forbidden", message: "not allowed to subscribe to orders.user.b" } },
      "orders.user.b",
    );
    s.subscribed("orders.user.a", "e:4");
    expect([a.state, b.state, c.state]).toEqual(["subscribed", "unsubscribed", "subscribed"]);
    await expect(b.ready()).rejects.toMatchObject({ name: "ServerError", code: "forbidden", channels: ["orders.user.b"] });
    expect(events.error).toHaveLength(1);
    expect(client.getSubscription("orders.user.b")).toBeUndefined();
    // On the next connection only the live ones come back, resuming.
    s.serverClose(1006);
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent.map((f) => [f["channels"], f["since"]])).toEqual([
      [["orders.user.a"], { "orders.user.a": "e:4" }],
      [["orders.user.c"], { "orders.user.c": ":0" }],
    ]);
    client.close();
  });

  it("resumes with since = the last offset (from events and the subscribed reply) and reports lost history", async () => {
    const { client, events } = make();
    const got: string[] = [];
    client.subscribe("orders.created", (e) => got.push(e.offset));
    client.subscribe("orders.status", (e) => got.push(e.offset));
    client.connect();
    await settle();
    let s = FakeSocket.last();
    s.open();
    s.receive(ev("orders.created", "e:5"));
    s.subscribed("orders.created", "e:5");
    s.subscribed("orders.status", "e:40");
    s.receive(ev("orders.created", "e:6"));
    s.serverClose(4004, "slow consumer");
    await vi.advanceTimersByTimeAsync(100);
    s = FakeSocket.last();
    s.open();
    expect(s.sent.map((f) => f["since"])).toEqual([{ "orders.created": "e:6" }, { "orders.status": "e:40" }]);
    s.receive(ev("orders.created", "e:6")); // replay overlap: dropped
    s.receive(ev("orders.created", "e:7"));
    s.subscribed("orders.created", "e:7");
    s.subscribed("orders.status", "f:0", false);
    expect(got).toEqual(["e:5", "e:6", "e:7"]);
    expect(events.recoveryFailed).toEqual([{ channels: ["orders.status"] }]);
    expect(client.offsets()).toEqual({ "orders.created": "e:7", "orders.status": "f:0" });
    client.close();
  });

  it("unsubscribe() leaves the channel, ends async iterators, and a new subscribe starts live", async () => {
    const { client } = make();
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    const sub = client.subscribe("orders.created");
    const seen: OrderEvent[] = [];
    const loop = (async () => {
      for await (const e of sub) seen.push(e);
      return "ended";
    })();
    s.subscribed("orders.created", "e:3");
    s.receive(ev("orders.created", "e:4", "a"));
    s.receive(ev("orders.created", "e:5", "b"));
    await settle();
    sub.unsubscribe();
    sub.unsubscribe();
    expect(await loop).toBe("ended");
    expect(seen.map((e) => e.data.id)).toEqual(["a", "b"]);
    expect(sub.state).toBe("unsubscribed");
    expect(s.sent.at(-1)).toEqual({ type: "unsubscribe", channels: ["orders.created"], id: 2 });
    s.receive(ev("orders.created", "e:6")); // in flight: ignored
    const again = client.subscribe("orders.created");
    expect(again).not.toBe(sub);
    expect(s.sent.at(-1)).toEqual({ type: "subscribe", channels: ["orders.created"], id: 3 });
    client.close();
  });

  it("an async iterator throws when the edge refuses the subscription", async () => {
    const { client } = make();
    client.connect();
    await settle();
    FakeSocket.last().open();
    const sub = client.subscribe("orders.user.bob");
    const loop = (async () => {
      for await (const _ of sub) return "event";
      return "ended";
    })();
    FakeSocket.last().answer("subscribe", { type: "error", error: { code: "forbidden", message: "no" } });
    await expect(loop).rejects.toMatchObject({ code: "forbidden" });
    client.close();
  });

  it("retries a subscribe the edge could not serve (unavailable) or did not answer, after a backoff", async () => {
    const { client, events } = make({ requestTimeoutMs: 2_000 });
    const sub = client.subscribe("orders.created");
    const errors: Error[] = [];
    sub.on("error", (e) => errors.push(e));
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    s.answer("subscribe", { type: "error", error: { code: "unavailable", message: "try again" } });
    expect(sub.state).toBe("subscribing");
    await vi.advanceTimersByTimeAsync(100);
    expect(s.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2_000); // no reply (e.g. dropped by the rate limiter)
    expect(events.error?.map((e) => e.name)).toEqual(["ServerError", "RequestTimeoutError"]);
    expect(errors).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.sent).toHaveLength(3);
    s.subscribed("orders.created", "e:1");
    expect(sub.state).toBe("subscribed");
    client.close();
  });

  it("waits for connected before subscribing, and seeds resume offsets from options.offsets", async () => {
    const { client } = make({ token: "tok", offsets: { "orders.created": "e:41", "orders.status": "e:7" } });
    client.subscribe("orders.created", () => undefined);
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    expect(s.sent.map((f) => f.type)).toEqual(["connect"]);
    s.answer("connect", { type: "connected", user: "u1", exp: null });
    expect(s.sent[1]).toEqual({ type: "subscribe", channels: ["orders.created"], since: { "orders.created": "e:41" }, id: 2 });
    client.close();
  });

  it("a handler that throws is reported as error and does not stop delivery", async () => {
    const { client, events } = make();
    const got: string[] = [];
    client.subscribe("orders.created", () => {
      throw new Error("boom");
    });
    client.subscribe("orders.created", (e) => got.push(e.offset));
    client.connect();
    await settle();
    FakeSocket.last().open();
    FakeSocket.last().receive(ev("orders.created", "e:1"));
    expect(got).toEqual(["e:1"]);
    expect(events.error).toBeUndefined(); // the subscription's own error event, not the client's
    client.close();
  });
});
