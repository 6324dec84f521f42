import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeSocket } from "./fake-socket.test-helper.js";
import type { ClientOptions } from "./client-options.js";
import type { ClientEvents } from "./client-events.js";
import { OrderStreamClient } from "./order-stream-client.js";
import type { OrderEvent } from "./protocol.js";

const order = (id: string, status = "PENDING") => ({ id, userId: "u1", items: [], total: 0, status, createdAt: "2026-01-01T00:00:00Z" });
const ev = (channel: string, offset: string, id = "o1") => ({ type: "order.created", channel, offset, data: order(id) });

function make(extra: Partial<ClientOptions> = {}) {
  const client = new OrderStreamClient({
    url: ["ws://a.test/ws", "ws://b.test/ws"],
    WebSocket: FakeSocket,
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 1000,
    stableAfterMs: 10_000,
    random: () => 0.999999,
    ...extra,
  });
  const events: { [K in keyof ClientEvents]?: ClientEvents[K][] } = {};
  for (const name of ["open", "close", "error", "state", "recoveryFailed", "subscribed"] as const)
    client.on(name, (p) => ((events[name] ??= []) as unknown[]).push(p));
  return { client, events };
}

/** Lets the token promise and the dial continuation run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("OrderStreamClient (state machine, in-memory socket)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  it("subscribes on open, delivers events per channel in order and drops duplicates", async () => {
    const { client, events } = make();
    const got: OrderEvent[] = [];
    client.subscribe("orders.created", (e) => got.push(e));
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    expect(s.sent).toEqual([{ type: "subscribe", channels: ["orders.created"] }]);
    expect(events.state).toEqual(["connecting", "open"]);
    s.receive({ type: "subscribed", channels: ["orders.created"], recovered: true, offsets: { "orders.created": "e:0" } });
    for (const o of ["e:1", "e:2", "e:2", "e:1", "e:3"]) s.receive(ev("orders.created", o));
    s.receive(ev("orders.status", "e:9")); // no handler: ignored
    expect(got.map((e) => e.offset)).toEqual(["e:1", "e:2", "e:3"]);
    expect(client.offsets()).toEqual({ "orders.created": "e:3" });
    client.close();
  });

  it("reconnects with growing full-jitter delays, rotating URLs and re-fetching the token", async () => {
    let n = 0;
    const { client, events } = make({ token: async () => `t${++n}` });
    client.connect();
    await settle();
    expect(FakeSocket.last().url).toBe("ws://a.test/ws?token=t1");
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      FakeSocket.last().refuse();
      const close = events.close?.at(-1);
      expect(close).toMatchObject({ code: 1006, willReconnect: true });
      delays.push(close?.reconnectDelayMs ?? -1);
      const before = FakeSocket.all.length;
      await vi.advanceTimersByTimeAsync((close?.reconnectDelayMs ?? 0) - 1);
      expect(FakeSocket.all.length).toBe(before); // not before the delay
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeSocket.all.length).toBe(before + 1);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000]);
    expect(FakeSocket.all.map((s) => s.url)).toEqual([
      "ws://a.test/ws?token=t1", "ws://b.test/ws?token=t2", "ws://a.test/ws?token=t3",
      "ws://b.test/ws?token=t4", "ws://a.test/ws?token=t5", "ws://b.test/ws?token=t6",
    ]);
    expect(events.error?.length).toBe(5);
    client.close();
  });

  it("resets the backoff only after the connection stayed open for the stable period", async () => {
    const { client, events } = make();
    client.connect();
    await settle();
    FakeSocket.last().refuse();
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.last().refuse();
    await vi.advanceTimersByTimeAsync(200);
    FakeSocket.last().open();
    await vi.advanceTimersByTimeAsync(9_000); // open, but not yet stable
    FakeSocket.last().serverClose(1006);
    expect(events.close?.at(-1)?.reconnectDelayMs).toBe(400);
    await vi.advanceTimersByTimeAsync(400);
    FakeSocket.last().open();
    await vi.advanceTimersByTimeAsync(10_000); // stable
    FakeSocket.last().serverClose(1001, "going away");
    expect(events.close?.at(-1)).toMatchObject({ code: 1001, willReconnect: true, reconnectDelayMs: 100 });
    client.close();
  });

  it("does not reconnect after 4001, 4008, 4400 or 1000 from the server", async () => {
    for (const code of [4001, 4008, 4400, 1000]) {
      FakeSocket.all = [];
      const { client, events } = make();
      client.connect();
      await settle();
      FakeSocket.last().open();
      FakeSocket.last().serverClose(code, "bye");
      await vi.advanceTimersByTimeAsync(60_000);
      expect(FakeSocket.all.length).toBe(1);
      expect(events.close).toEqual([{ code, reason: "bye", willReconnect: false }]);
      expect(client.state).toBe("closed");
    }
  });

  it("close() stops everything: no reconnect, pending requests rejected", async () => {
    const { client, events } = make();
    client.connect();
    await settle();
    FakeSocket.last().open();
    const p = client.processOrder("o1", "confirm");
    client.close();
    await expect(p).rejects.toThrow(/client closed/);
    expect(FakeSocket.last().closedWith).toEqual({ code: 1000, reason: "client closed" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all.length).toBe(1);
    expect(events.close).toEqual([{ code: 1000, reason: "client closed", willReconnect: false }]);
  });

  it("resumes with since = last offsets (from events and from the subscribed reply)", async () => {
    const { client, events } = make();
    const got: string[] = [];
    client.subscribe("orders.created", (e) => got.push(e.offset));
    client.subscribe("orders.status", (e) => got.push(e.offset));
    client.connect();
    await settle();
    let s = FakeSocket.last();
    s.open();
    s.receive(ev("orders.created", "e:5"));
    s.receive({ type: "subscribed", channels: ["orders.created", "orders.status"], recovered: true, offsets: { "orders.created": "e:5", "orders.status": "e:40" } });
    s.receive(ev("orders.created", "e:6"));
    s.serverClose(4004, "slow consumer");
    await vi.advanceTimersByTimeAsync(100);
    s = FakeSocket.last();
    s.open();
    expect(s.sent[0]).toEqual({
      type: "subscribe",
      channels: ["orders.created", "orders.status"],
      since: { "orders.created": "e:6", "orders.status": "e:40" },
    });
    s.receive(ev("orders.created", "e:6")); // replay overlap: dropped
    s.receive(ev("orders.created", "e:7"));
    s.receive({ type: "subscribed", channels: ["orders.created", "orders.status"], recovered: false, offsets: { "orders.created": "e:7", "orders.status": "f:0" } });
    expect(got).toEqual(["e:5", "e:6", "e:7"]);
    expect(events.recoveryFailed).toEqual([{ channels: ["orders.created", "orders.status"] }]);
    expect(client.offsets()).toEqual({ "orders.created": "e:7", "orders.status": "f:0" });
    client.close();
  });

  it("unsubscribes when the last handler goes and starts live when subscribed again", async () => {
    const { client } = make();
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    const off1 = client.subscribe("orders.created", () => undefined);
    const off2 = client.subscribe("orders.created", () => undefined);
    s.receive(ev("orders.created", "e:3"));
    s.receive({ type: "subscribed", channels: ["orders.created"], recovered: true, offsets: { "orders.created": "e:3" } });
    off1();
    off1();
    expect(s.sent).toEqual([{ type: "subscribe", channels: ["orders.created"] }]);
    off2();
    expect(s.sent.at(-1)).toEqual({ type: "unsubscribe", channels: ["orders.created"] });
    client.subscribe("orders.created", () => undefined);
    expect(s.sent.at(-1)).toEqual({ type: "subscribe", channels: ["orders.created"] });
    client.close();
  });

  it("processOrder: results by order id, errors naming the order reject it, timeouts and not-connected reject", async () => {
    const { client, events } = make({ requestTimeoutMs: 5_000 });
    await expect(client.processOrder("o1")).rejects.toThrow(/not connected/);
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    const a = client.processOrder("o1", "confirm");
    const b = client.processOrder("o2");
    const c = client.processOrder("o3", "ship");
    expect(s.sent.map((f) => (f as { action?: string }).action)).toEqual(["confirm", undefined, "ship"]);
    s.receive({ type: "process_order.result", order_id: "o2", status: "PROCESSING" });
    s.receive({ type: "error", error: { code: "forbidden", message: "not allowed to act on order o1" } });
    await expect(b).resolves.toEqual({ orderId: "o2", status: "PROCESSING" });
    await expect(a).rejects.toMatchObject({ name: "ServerError", code: "forbidden" });
    const cErr = c.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await cErr).toMatchObject({ name: "RequestTimeoutError" });
    expect(events.error ?? []).toEqual([]);
    client.close();
  });

  it("a subscribe refused as forbidden drops its channels and reports them; unavailable is retried", async () => {
    const { client, events } = make();
    client.subscribe("orders.user.bob", () => undefined);
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    s.receive({ type: "error", error: { code: "forbidden", message: "not allowed to subscribe to orders.user.bob" } });
    expect(events.error?.[0]).toMatchObject({ name: "ServerError", code: "forbidden", channels: ["orders.user.bob"] });
    client.subscribe("orders.created", () => undefined);
    s.receive({ type: "error", error: { code: "unavailable", message: "try again" } });
    expect(s.sent.length).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(s.sent.at(-1)).toEqual({ type: "subscribe", channels: ["orders.created"] });
    s.serverClose(1006);
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent).toEqual([{ type: "subscribe", channels: ["orders.created"] }]);
    client.close();
  });

  it("a multi-channel subscribe refused whole is retried channel by channel to find the bad one", async () => {
    const { client, events } = make();
    client.subscribe("orders.user.me", () => undefined);
    client.subscribe("orders.user.bob", () => undefined);
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    s.receive({ type: "error", error: { code: "forbidden", message: "not allowed to subscribe to orders.user.bob" } });
    expect(events.error ?? []).toEqual([]);
    expect(s.sent.slice(1)).toEqual([{ type: "subscribe", channels: ["orders.user.me"] }]); // one frame in flight at a time
    s.receive({ type: "subscribed", channels: ["orders.user.me"], recovered: true, offsets: {} });
    expect(s.sent.slice(2)).toEqual([{ type: "subscribe", channels: ["orders.user.bob"] }]);
    s.receive({ type: "error", error: { code: "forbidden", message: "not allowed to subscribe to orders.user.bob" } });
    expect(events.error).toHaveLength(1);
    expect(events.error?.[0]).toMatchObject({ code: "forbidden", channels: ["orders.user.bob"] });
    s.serverClose(1006);
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent).toEqual([{ type: "subscribe", channels: ["orders.user.me"] }]);
    client.close();
  });

  it("keeps one subscribe in flight, merges what is asked meanwhile, and retries one left unanswered", async () => {
    const { client, events } = make({ requestTimeoutMs: 2_000 });
    client.subscribe("a", () => undefined);
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    client.subscribe("b", () => undefined);
    client.subscribe("c", () => undefined);
    expect(s.sent).toEqual([{ type: "subscribe", channels: ["a"] }]);
    s.receive({ type: "subscribed", channels: ["a"], recovered: true, offsets: { a: "e:1" } });
    expect(s.sent.at(-1)).toEqual({ type: "subscribe", channels: ["b", "c"] });
    await vi.advanceTimersByTimeAsync(2_000); // no reply (e.g. dropped by the rate limiter)
    expect(events.error?.[0]).toMatchObject({ name: "RequestTimeoutError" });
    expect(s.sent.at(-1)).toEqual({ type: "subscribe", channels: ["b", "c"] });
    expect(s.sent).toHaveLength(3);
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
    expect(events.error?.[0]?.message).toBe("boom");
    client.close();
  });

  it("gives up a socket that does not open within connectTimeoutMs and tries again", async () => {
    const { client, events } = make({ connectTimeoutMs: 1_000 });
    client.connect();
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events.error?.[0]?.message).toMatch(/timed out/);
    expect(events.close?.[0]).toMatchObject({ code: 1006, reason: "connect timeout", willReconnect: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.all.length).toBe(2);
    client.close();
  });

  it("a failing or hanging token provider is reported and retried under backoff", async () => {
    let calls = 0;
    const { client, events } = make({
      connectTimeoutMs: 1_000,
      token: () => {
        calls++;
        if (calls === 1) throw new Error("auth server down");
        if (calls === 2) return new Promise<string>(() => undefined); // never answers
        return "ok";
      },
    });
    client.connect();
    await settle();
    expect(events.error?.[0]?.message).toMatch(/auth server down/);
    expect(FakeSocket.all.length).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events.error?.[1]?.message).toMatch(/token provider did not answer/);
    await vi.advanceTimersByTimeAsync(200);
    expect(FakeSocket.last().url).toBe("ws://a.test/ws?token=ok");
    client.close();
  });

  it("emits close before the state goes back to connecting, and close() in a close listener stops the retry", async () => {
    const { client, events } = make();
    const order: string[] = [];
    client.on("close", () => order.push("close"));
    client.on("state", (s) => order.push(s));
    const stopOnce = client.on("close", () => {
      stopOnce();
      client.close();
    });
    client.connect();
    await settle();
    FakeSocket.last().open();
    FakeSocket.last().serverClose(1006);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all.length).toBe(1);
    expect(order).toEqual(["connecting", "open", "close", "close", "closed"]);
    expect(events.close?.map((c) => c.willReconnect)).toEqual([true, false]);
    expect(client.state).toBe("closed");
  });

  it("seeds resume offsets from options.offsets", async () => {
    const { client } = make({ offsets: { "orders.created": "e:41", "orders.status": "e:7" } });
    client.subscribe("orders.created", () => undefined);
    client.connect();
    await settle();
    FakeSocket.last().open();
    expect(FakeSocket.last().sent[0]).toEqual({ type: "subscribe", channels: ["orders.created"], since: { "orders.created": "e:41" } });
    client.close();
  });

  it("rejects bad options with a message naming the option", () => {
    expect(() => new OrderStreamClient({ url: "http://x", WebSocket: FakeSocket })).toThrow(/url/);
    expect(() => new OrderStreamClient({ url: "ws://x", WebSocket: FakeSocket, maxReconnectDelayMs: -1 })).toThrow(/maxReconnectDelayMs/);
    // Node 22+ has a global WebSocket (the default); Node 20 and old runtimes have none.
    vi.stubGlobal("WebSocket", undefined);
    try {
      expect(() => new OrderStreamClient({ url: "ws://x" })).toThrow(/WebSocket/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
