import { type ClientEvents, OrderStreamClient, type OrderEvent } from "./index.js";
import { waitUntil } from "@orderstream/testkit";
import { CLOSE_CODES } from "@orderstream/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckedWebSocket, type EdgeCluster, type TestEdge, signToken, startEdgeCluster } from "./edge-cluster.test-helper.js";

// The SDK against a real edge node: getToken() sent in connect, refreshed in place before exp, and
// a new token after a 4005 close. Tokens here live a few seconds (JWT `exp` has one-second
// resolution; the edge sweeps once a second).
let cluster: EdgeCluster;
let edge: TestEdge;
const sdks: OrderStreamClient[] = [];
const token = (sub: string, ttlS: number): string => signToken({ sub, exp: Math.floor(Date.now() / 1000) + ttlS });

beforeAll(async () => {
  cluster = await startEdgeCluster();
  edge = await cluster.startEdge("refresh");
});

afterAll(async () => {
  for (const s of sdks) s.close();
  await cluster?.stop();
});

describe("the SDK with getToken()", () => {
  function sdk(getToken: () => string | Promise<string>, refreshMarginMs: number) {
    const s = new OrderStreamClient({
      url: edge.url,
      WebSocket: CheckedWebSocket,
      getToken,
      refreshMarginMs,
      minReconnectDelayMs: 50,
      maxReconnectDelayMs: 200,
    });
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
    const { s, log } = sdk(() => (calls++, token("uma", 3)), 1500);
    const got: OrderEvent[] = [];
    s.subscribe("orders.user.uma", (e) => got.push(e));
    s.connect();
    await waitUntil(() => log.open.length === 1, "open", 5000);
    // Two refreshes, each before the current token's exp: the first token's life is long over.
    await waitUntil(() => log.refreshed.length >= 2, "two refreshes", 8000);
    await cluster.createOrder("uma");
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
      const t = token("vic", calls === 1 ? 3 : 3600);
      tokens.push(t);
      return t;
    };
    const { s, log } = sdk(getToken, 1000);
    const got: OrderEvent[] = [];
    s.subscribe("orders.user.vic", (e) => got.push(e));
    s.connect();
    await waitUntil(() => log.subscribed.length === 1, "subscribed", 5000);
    const before = await cluster.createOrder("vic");
    await waitUntil(() => got.length === 1, "the first event", 5000);
    await waitUntil(() => log.close.length === 1, "the 4005 close", 6000);
    expect(log.close[0]).toMatchObject({ code: CLOSE_CODES.tokenExpired, reason: "token expired", willReconnect: true });
    expect(log.errors.some((e) => /token refresh failed/.test(e.message))).toBe(true);
    await waitUntil(() => log.subscribed.length === 2, "subscribed again after the reconnect", 5000);
    expect(log.open).toHaveLength(2);
    expect(calls).toBe(3);
    const after = await cluster.createOrder("vic");
    await waitUntil(() => got.length === 2, "the event after the reconnect", 5000);
    expect(got.map((e) => e.data.id)).toEqual([before, after]);
  });
});
