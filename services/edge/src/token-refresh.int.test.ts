import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect, makeToken, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

// The SDK side of refresh and 4005 is tested in packages/client/src/token-refresh.int.test.ts.
// Tokens here live 2 seconds (JWT `exp` has one-second resolution; the edge sweeps once a second).
let redis: TestRedis;
let cmd: RedisConnection;
let store: OrderStore;
let edge: EdgeNode;
const clients: TestClient[] = [];
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

  it("refuses a refresh for another sub or with a bad token (invalid_token), and the socket stays open", async () => {
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
    // Anonymous access is off here: a socket without a token must connect first (refresh is not connect).
    const anon = await client();
    anon.send({ type: "refresh", token: await makeToken(TEST_SECRET, "sam", { expiresIn: "1h" }) });
    expect((await anon.closed).code).toBe(4001);
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
