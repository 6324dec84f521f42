import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeSocket, make, settle } from "./fake-socket.test-helper.js";
import { OrderStreamClient } from "./order-stream-client.js";

describe("OrderStreamClient: connecting (in-memory socket)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  it("sends the token in a connect frame (never in the URL), offers orderstream.v1, and is open once connected", async () => {
    const { client, events } = make({ token: "tok-1" });
    client.connect();
    await settle();
    const s = FakeSocket.last();
    expect(s.url).toBe("ws://a.test/ws");
    expect(s.protocols).toEqual(["orderstream.v1"]);
    s.open();
    expect(s.sent).toEqual([{ type: "connect", token: "tok-1", id: 1 }]);
    expect(client.state).toBe("connecting");
    s.receive({ type: "connected", user: "alice", exp: 1_900_000_000, id: 1 });
    expect(client.state).toBe("open");
    expect(events.connected).toEqual([{ user: "alice", exp: 1_900_000_000 }]);
    expect(events.open).toEqual([{ url: "ws://a.test/ws" }]);
    client.close();
  });

  it("connects anonymously without a connect frame", async () => {
    const { client, events } = make();
    client.connect();
    await settle();
    FakeSocket.last().open();
    expect(FakeSocket.last().sent).toEqual([]);
    expect(events.state).toEqual(["connecting", "open"]);
    client.close();
  });

  it("on 4001 asks getToken() once more; a second 4001 stops with an UnauthorizedError (no infinite retry)", async () => {
    const tokens: string[] = [];
    const { client, events } = make({ getToken: () => `t${tokens.push("x")}` });
    client.connect();
    await settle();
    FakeSocket.last().open();
    FakeSocket.last().serverClose(4001, "unauthorized");
    expect(events.close?.at(-1)).toMatchObject({ code: 4001, willReconnect: true });
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent[0]).toMatchObject({ type: "connect", token: "t2" });
    FakeSocket.last().serverClose(4001, "unauthorized");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(tokens).toHaveLength(2);
    expect(events.close?.at(-1)).toEqual({ code: 4001, reason: "unauthorized", willReconnect: false });
    expect(events.error?.at(-1)).toMatchObject({ name: "UnauthorizedError" });
    expect(client.state).toBe("closed");
  });

  it("a 4001 after a successful connect gets the one retry again; a static token stops at once", async () => {
    let n = 0;
    const { client } = make({ getToken: () => `t${++n}` });
    client.connect();
    await settle();
    FakeSocket.last().openConnected();
    FakeSocket.last().serverClose(4001);
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.last().openConnected(); // the new token worked: the retry is available again
    FakeSocket.last().serverClose(4001);
    await vi.advanceTimersByTimeAsync(200);
    expect(FakeSocket.all).toHaveLength(3);
    client.close();

    FakeSocket.all = [];
    const fixed = make({ token: "static" });
    fixed.client.connect();
    await settle();
    FakeSocket.last().open();
    FakeSocket.last().serverClose(4001, "unauthorized");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(fixed.events.error?.[0]).toMatchObject({ name: "UnauthorizedError" });
  });

  it("reconnects with growing full-jitter delays, rotating URLs and re-fetching the token", async () => {
    let n = 0;
    const { client, events } = make({ getToken: async () => `t${++n}` });
    client.connect();
    await settle();
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
    expect(FakeSocket.all.map((s) => s.url)).toEqual(["ws://a.test/ws", "ws://b.test/ws", "ws://a.test/ws", "ws://b.test/ws", "ws://a.test/ws", "ws://b.test/ws"]);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent[0]).toMatchObject({ type: "connect", token: "t6" });
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

  it("does not reconnect after 4008, 4400 or 1000 from the server", async () => {
    for (const code of [4008, 4400, 1000]) {
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

  it("processOrder: several in flight, each matched by its id; errors answering it reject it; timeouts and not-connected reject", async () => {
    const { client, events } = make({ requestTimeoutMs: 5_000 });
    await expect(client.processOrder("o1")).rejects.toThrow(/not connected/);
    client.connect();
    await settle();
    const s = FakeSocket.last();
    s.open();
    const a = client.processOrder("o1", "confirm");
    const b = client.processOrder("o1", "ship");
    const c = client.processOrder("o3");
    expect(s.sent.map((f) => [f["order_id"], f["action"], f.id])).toEqual([
      ["o1", "confirm", 1],
      ["o1", "ship", 2],
      ["o3", undefined, 3],
    ]);
    s.receive({ type: "process_order.result", order_id: "o1", status: "SHIPPED", id: 2 }); // out of order
    s.receive({ type: "error", error: { code: "forbidden", message: "not allowed" }, id: 1 });
    await expect(b).resolves.toEqual({ orderId: "o1", status: "SHIPPED" });
    await expect(a).rejects.toMatchObject({ name: "ServerError", code: "forbidden" });
    const cErr = c.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await cErr).toMatchObject({ name: "RequestTimeoutError" });
    s.receive({ type: "process_order.result", order_id: "o3", status: "PROCESSING", id: 3 }); // too late: dropped
    expect(events.error ?? []).toEqual([]);
    s.receive({ type: "error", error: { code: "rate_limited", message: "slow down" } }); // answers nothing of ours
    expect(events.error?.[0]).toMatchObject({ name: "ServerError", code: "rate_limited" });
    client.close();
  });

  it("refreshes the token in place before exp with a refresh frame, matched by id", async () => {
    vi.setSystemTime(1_000_000_000);
    let n = 0;
    const { client, events } = make({ getToken: () => `t${++n}`, refreshMarginMs: 30_000 });
    client.connect();
    await settle();
    FakeSocket.last().openConnected("u1", 1_000_000 + 120);
    await vi.advanceTimersByTimeAsync(90_000);
    const s = FakeSocket.last();
    expect(s.sent.at(-1)).toEqual({ type: "refresh", token: "t2", id: 2 });
    s.receive({ type: "refreshed", exp: 1_000_000 + 3600, id: 2 });
    expect(events.refreshed).toEqual([{ exp: 1_000_000 + 3600 }]);
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
    FakeSocket.last().open();
    expect(FakeSocket.last().sent).toEqual([{ type: "connect", token: "ok", id: 1 }]);
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

  it("rejects bad options with a message naming the option", () => {
    expect(() => new OrderStreamClient({ url: "http://x", WebSocket: FakeSocket })).toThrow(/url/);
    expect(() => new OrderStreamClient({ url: "ws://x", WebSocket: FakeSocket, maxReconnectDelayMs: -1 })).toThrow(/maxReconnectDelayMs/);
    expect(() => new OrderStreamClient({ url: "ws://x", WebSocket: FakeSocket, token: "a", getToken: () => "b" })).toThrow(/getToken/);
    // Node 22+ has a global WebSocket (the default); Node 20 and old runtimes have none.
    vi.stubGlobal("WebSocket", undefined);
    try {
      expect(() => new OrderStreamClient({ url: "ws://x" })).toThrow(/WebSocket/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
