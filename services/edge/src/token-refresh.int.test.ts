import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { CLOSE_CODES as SDK_CLOSE_CODES, type ClientEvents, OrderStreamClient, type OrderEvent } from "@orderstream/client";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect, makeToken, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

// Tokens here live 2 seconds (JWT `exp` has one-second resolution; the edge sweeps once a second).
let redis: TestRedis;
let cmd: RedisConnection;
let store: OrderStore;
let edge: EdgeNode;
const clients: TestClient[] = [];
const sdks: OrderStreamClient[] = [];
const url = (token?: string): string => `ws://127.0.0.1:${edge.port}/ws${token ? `?token=${token}` : ""}`;
const nowS = (): number => Math.floor(Date.now() / 1000);

async function client(token?: string): Promise<TestClient> {
  const c = await connect(url(token));
  clients.push(c);
  return c;
}

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  store = new OrderStore(cmd);
  edge = await startEdge(edgeConfig(redis.url, { ANONYMOUS_ALL_ORDERS: "false" }), createLogger("warn", "test"));
});

afterAll(async () => {
  for (const s of sdks) s.close();
  await Promise.all(clients.map((c) => c.close()));
  await edge?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

describe("token refresh on an open socket", () => {
  it("a refresh before exp keeps the socket and its subscriptions past the first token's exp", async () => {
    const first = await makeToken(TEST_SECRET, "rita", { expiresIn: "2s" });
    const c = await client(first);
    expect(await subscribeAndWait(c, ["orders.user.rita"])).toMatchObject({ type: "subscribed" });
    const later = nowS() + 60;
    c.send({ type: "refresh", token: await makeToken(TEST_SECRET, "rita", { expiresIn: later }) });
    expect(await c.next((f) => f.type === "refreshed" || f.type === "error")).toEqual({ type: "refreshed", exp: later });
    // Past the first token's exp and at least one sweep: still open, still subscribed.
    await new Promise((r) => setTimeout(r, 3200));
    const { order } = await store.create(orderRequest("rita"));
    expect(await c.next((f) => f.type === "order.created")).toMatchObject({ channel: "orders.user.rita", data: { id: order.id } });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("refuses a refresh for another sub, a bad token and a refresh on an anonymous socket (invalid_token), and the socket stays open", async () => {
    const c = await client(await makeToken(TEST_SECRET, "sam", { expiresIn: "1h" }));
    const cases = [
      { type: "refresh", token: await makeToken(TEST_SECRET, "not-sam", { expiresIn: "1h" }) },
      { type: "refresh", token: await makeToken("wrong-secret", "sam", { expiresIn: "1h" }) },
      { type: "refresh", token: await makeToken(TEST_SECRET, "sam", { expiresIn: -10 }) },
    ];
    for (const frame of cases) {
      const from = c.frames.length;
      c.send(frame);
      expect(await c.next((f) => f.type === "error" || f.type === "refreshed", 3000, from)).toMatchObject({ type: "error", error: { code: "invalid_token" } });
    }
    const bad = c.frames.length;
    c.send({ type: "refresh" });
    expect(await c.next((f) => f.type === "error", 3000, bad)).toMatchObject({ error: { code: "bad_request" } });
    const anon = await client();
    anon.send({ type: "refresh", token: await makeToken(TEST_SECRET, "sam", { expiresIn: "1h" }) });
    expect(await anon.next((f) => f.type === "error")).toMatchObject({ error: { code: "invalid_token" } });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("closes a socket whose token expired without a refresh with 4005 \"token expired\", within about a second of exp", async () => {
    const token = await makeToken(TEST_SECRET, "tess", { expiresIn: "2s" });
    const exp = nowS() + 2;
    const c = await client(token);
    await subscribeAndWait(c, ["orders.user.tess"]);
    const anon = await client(); // anonymous sockets never expire
    const closed = await c.closed;
    expect(closed).toMatchObject({ code: 4005, reason: "token expired" });
    expect(closed.at).toBeGreaterThanOrEqual(exp * 1000);
    expect(closed.at).toBeLessThan(exp * 1000 + 2000);
    expect(anon.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe("the SDK with getToken()", () => {
  function sdk(getToken: () => Promise<string>, refreshMarginMs: number) {
    const s = new OrderStreamClient({ url: url(), WebSocket, getToken, refreshMarginMs, minReconnectDelayMs: 50, maxReconnectDelayMs: 200 });
    sdks.push(s);
    const log = {
      close: [] as ClientEvents["close"][],
      open: [] as ClientEvents["open"][],
      subscribed: [] as ClientEvents["subscribed"][],
      refreshed: [] as ClientEvents["refreshed"][],
      errors: [] as Error[],
    };
    s.on("subscribed", (e) => log.subscribed.push(e));
    s.on("close", (e) => log.close.push(e));
    s.on("open", (e) => log.open.push(e));
    s.on("refreshed", (e) => log.refreshed.push(e));
    s.on("error", (e) => log.errors.push(e));
    return { s, log };
  }

  it("refreshes the token on the open socket before exp: one connection, events keep coming", async () => {
    let calls = 0;
    const { s, log } = sdk(() => (calls++, makeToken(TEST_SECRET, "uma", { expiresIn: "3s" })), 1500);
    const got: OrderEvent[] = [];
    s.subscribe("orders.user.uma", (e) => got.push(e));
    s.connect();
    await waitUntil(() => log.open.length === 1, "open", 5000);
    // Two refreshes, each before the current token's exp: the first token's life is long over.
    await waitUntil(() => log.refreshed.length >= 2, "two refreshes", 8000);
    await store.create(orderRequest("uma"));
    await waitUntil(() => got.length === 1, "the event", 5000);
    expect(log.open).toHaveLength(1);
    expect(log.close).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(log.refreshed.every((r) => typeof r.exp === "number")).toBe(true);
  });

  it("after a 4005 close (the refresh failed), gets a new token, reconnects and resumes its subscriptions", async () => {
    let calls = 0;
    const tokens: string[] = [];
    const getToken = async (): Promise<string> => {
      calls++;
      // The second call is the refresh: the token service is down then.
      if (calls === 2) throw new Error("token service down");
      const t = await makeToken(TEST_SECRET, "vic", { expiresIn: calls === 1 ? "3s" : "1h" });
      tokens.push(t);
      return t;
    };
    const { s, log } = sdk(getToken, 1000);
    const got: OrderEvent[] = [];
    s.subscribe("orders.user.vic", (e) => got.push(e));
    s.connect();
    await waitUntil(() => log.subscribed.length === 1, "subscribed", 5000);
    const { order: before } = await store.create(orderRequest("vic"));
    await waitUntil(() => got.length === 1, "the first event", 5000);
    await waitUntil(() => log.close.length === 1, "the 4005 close", 6000);
    expect(log.close[0]).toMatchObject({ code: SDK_CLOSE_CODES.tokenExpired, reason: "token expired", willReconnect: true });
    expect(log.errors.some((e) => /token refresh failed/.test(e.message))).toBe(true);
    await waitUntil(() => log.subscribed.length === 2, "subscribed again after the reconnect", 5000);
    expect(log.open).toHaveLength(2);
    expect(calls).toBe(3);
    const { order: after } = await store.create(orderRequest("vic"));
    await waitUntil(() => got.length === 2, "the event after the reconnect", 5000);
    expect(got.map((e) => e.data.id)).toEqual([before.id, after.id]);
  });
});
