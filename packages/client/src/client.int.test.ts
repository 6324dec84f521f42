import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "@orderstream/testkit";
import { offsetHead as parsePosition } from "@orderstream/wire";
import { CheckedWebSocket, type EdgeCluster, type TestEdge, clientFrameProblems, signToken, startEdgeCluster } from "./edge-cluster.test-helper.js";
import type { ClientEvents } from "./client-events.js";
import type { ClientOptions } from "./client-options.js";
import { OrderStreamClient } from "./order-stream-client.js";
import type { OrderEvent } from "./protocol.js";

let cluster: EdgeCluster;
let e1: TestEdge;
let e2: TestEdge;
const clients: OrderStreamClient[] = [];

function makeClient(opts: Partial<ClientOptions> & Pick<ClientOptions, "url">) {
  // Every frame the SDK sends goes through CheckedWebSocket: checked against the protocol's JSON Schema.
  const client = new OrderStreamClient({ WebSocket: CheckedWebSocket, minReconnectDelayMs: 50, maxReconnectDelayMs: 500, ...opts });
  clients.push(client);
  const log: { [K in keyof ClientEvents]: ClientEvents[K][] } = {
    open: [],
    connected: [],
    close: [],
    error: [],
    state: [],
    subscribed: [],
    recoveryFailed: [],
    refreshed: [],
  };
  for (const name of Object.keys(log) as (keyof ClientEvents)[]) client.on(name, (p) => (log[name] as unknown[]).push(p));
  return { client, log };
}

/** Collects a channel's events. */
function collect(client: OrderStreamClient, channel: string): OrderEvent[] {
  const got: OrderEvent[] = [];
  client.subscribe(channel, (e) => got.push(e));
  return got;
}

/**
 * Asserts one epoch and seq growing by exactly one: complete, ordered, duplicate-free (on the
 * all-orders channels the `<epoch>:<seq>` head of a composite offset counts the events received).
 */
function expectContiguous(events: OrderEvent[]): void {
  const pos = events.map((e) => parsePosition(e.offset));
  const epochs = new Set(pos.map((p) => p?.epoch));
  expect(epochs.size).toBe(1);
  const seqs = pos.map((p) => p?.seq ?? -1);
  const first = seqs[0] ?? 0;
  expect(seqs).toEqual(seqs.map((_, i) => first + i));
}

beforeAll(async () => {
  cluster = await startEdgeCluster();
  [e1, e2] = await Promise.all([cluster.startEdge("e1"), cluster.startEdge("e2")]);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await cluster?.stop();
  expect(clientFrameProblems).toEqual([]);
});

describe("client against real edge nodes", () => {
  it("receives each channel's events in order, as published", async () => {
    const { client, log } = makeClient({ url: e1.url });
    const created = collect(client, "orders.created");
    const status = collect(client, "orders.status");
    client.connect();
    await waitUntil(() => log.subscribed.length > 0, "subscribed");
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await cluster.createOrder());
    for (const id of ids) await cluster.store.transition(id, "confirm");
    await waitUntil(() => created.length >= 8 && status.length >= 8, "16 events");
    expect(created.map((e) => e.data.id)).toEqual(ids);
    expect(created.every((e) => e.type === "order.created" && e.data.status === "PENDING" && e.data.userId === "u1")).toBe(true);
    expect(status.map((e) => [e.data.id, e.data.status])).toEqual(ids.map((id) => [id, "CONFIRMED"]));
    expect(created[0]?.data.items).toEqual([{ productId: expect.any(String), quantity: 1, price: 10 }]);
    expectContiguous(created);
    expectContiguous(status);
    expect(log.state).toEqual(["connecting", "open"]);
  });

  it("after SIGKILL of its node, reconnects to the next URL and resumes with no gap and no duplicate", async () => {
    const victim = await cluster.startEdge("e-victim");
    // random 0.999: the first reconnect waits ~800 ms, a window in which events are published.
    const { client, log } = makeClient({ url: [victim.url, e2.url], minReconnectDelayMs: 800, maxReconnectDelayMs: 2_000, random: () => 0.999 });
    const got = collect(client, "orders.created");
    client.connect();
    await waitUntil(() => log.subscribed.length > 0, "subscribed");
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await cluster.createOrder());
    await waitUntil(() => got.length >= 10, "first 10 events");

    await victim.svc.stop("SIGKILL");
    await waitUntil(() => log.close.length > 0, "close after SIGKILL");
    expect(log.close[0]).toMatchObject({ code: 1006, willReconnect: true });
    const beforeReconnect = got.length;
    for (let i = 0; i < 10; i++) ids.push(await cluster.createOrder()); // while disconnected
    const publishedWhileDown = log.open.length === 1;
    await waitUntil(() => log.open.length === 2, "reopen", 5_000);
    expect(log.open[1]).toEqual({ url: e2.url });
    for (let i = 0; i < 10; i++) ids.push(await cluster.createOrder()); // live on the new node
    await waitUntil(() => got.length >= 30, "all 30 events", 10_000);
    await new Promise((r) => setTimeout(r, 200)); // a duplicate would arrive now
    expect(publishedWhileDown).toBe(true);
    expect(beforeReconnect).toBe(10);
    // Every order once; the replayed ones grouped by partition (an order's own events keep their order).
    expect(got.map((e) => e.data.id).sort()).toEqual([...ids].sort());
    expectContiguous(got);
    expect(log.subscribed.at(-1)).toMatchObject({ recovered: true });
    expect(log.recoveryFailed).toEqual([]);
  });

  it("when its node drains (SIGTERM, close 1001), moves to the next node and misses nothing", async () => {
    const node = await cluster.startEdge("e-drain");
    const { client, log } = makeClient({ url: [node.url, e2.url], minReconnectDelayMs: 200 });
    const got = collect(client, "orders.status");
    client.connect();
    await waitUntil(() => log.subscribed.length > 0, "subscribed");
    const ids = [await cluster.createOrder(), await cluster.createOrder(), await cluster.createOrder(), await cluster.createOrder()];
    await cluster.store.transition(ids[0] as string, "confirm");
    const stopped = node.svc.stop("SIGTERM");
    for (const id of ids.slice(1)) await cluster.store.transition(id, "confirm"); // during the drain window
    await waitUntil(() => log.close.length > 0, "close during drain", 5_000);
    expect(log.close[0]).toMatchObject({ code: 1001, willReconnect: true });
    await waitUntil(() => got.length >= 4 && log.open.length === 2, "all events after moving", 10_000);
    expect(await stopped).toBe(0);
    expect(log.open[1]).toEqual({ url: e2.url });
    expect(got.map((e) => e.data.id).sort()).toEqual([...ids].sort());
    expectContiguous(got);
  });

  it("emits recoveryFailed when the history is gone (FLUSHALL), then goes on live", async () => {
    const node = await cluster.startEdge("e-flush");
    const { client, log } = makeClient({ url: [node.url, e2.url], minReconnectDelayMs: 100, random: () => 0.999 });
    const got = collect(client, "orders.status");
    client.connect();
    await waitUntil(() => log.subscribed.length > 0, "subscribed");
    const first = await cluster.createOrder();
    await cluster.store.transition(first, "confirm");
    await waitUntil(() => got.length === 1, "first event");

    await cluster.redis.client().flushall();
    await node.svc.stop("SIGKILL");
    await waitUntil(() => log.recoveryFailed.length > 0, "recoveryFailed", 5_000);
    expect(log.recoveryFailed[0]).toEqual({ channels: ["orders.status"] });
    expect(log.subscribed.at(-1)).toMatchObject({ recovered: false });

    const second = await cluster.createOrder();
    await cluster.store.transition(second, "confirm");
    await waitUntil(() => got.length === 2, "live event after recovery failed");
    expect(got[1]?.data.id).toBe(second);
    expect(parsePosition(got[1]?.offset)?.epoch).not.toBe(parsePosition(got[0]?.offset)?.epoch);
  });

  it("close() ends the session: no reconnect", async () => {
    const { client, log } = makeClient({ url: e1.url });
    client.connect();
    await waitUntil(() => log.open.length === 1, "open");
    client.close();
    await new Promise((r) => setTimeout(r, 600)); // several backoff windows
    expect(log.open.length).toBe(1);
    expect(log.close).toEqual([{ code: 1000, reason: "client closed", willReconnect: false }]);
    expect(log.state).toEqual(["connecting", "open", "closed"]);
  });

  it("a refused token (4001 on connect) makes it ask getToken() once more, then stop with an error: no infinite retry", async () => {
    let fetched = 0;
    const { client, log } = makeClient({
      url: e1.url,
      getToken: async () => (fetched++, signToken({ sub: "u1" }, "wrong-secret")),
      minReconnectDelayMs: 50,
      maxReconnectDelayMs: 100,
    });
    client.connect();
    await waitUntil(() => client.state === "closed", "gave up", 5_000);
    await new Promise((r) => setTimeout(r, 500)); // a retry would come now
    expect(fetched).toBe(2);
    expect(log.close.map((c) => [c.code, c.willReconnect])).toEqual([
      [4001, true],
      [4001, false],
    ]);
    expect(log.error.at(-1)).toMatchObject({ name: "UnauthorizedError" });
    expect(log.open).toEqual([]);
  });

  it("sends the token in connect (not in the URL) and gets connected with its user", async () => {
    const { client, log } = makeClient({ url: e1.url, getToken: () => signToken({ sub: "zoe" }) });
    const sub = client.subscribe("orders.user.zoe");
    client.connect();
    await sub.ready();
    expect(log.connected).toEqual([{ user: "zoe", exp: expect.any(Number) }]);
    // The iterator first: the event is published by the script that stores the order, so it may
    // arrive before the create's reply.
    const it = sub[Symbol.asyncIterator]();
    const id = await cluster.createOrder("zoe");
    expect((await it.next()).value?.data.id).toBe(id);
    sub.unsubscribe();
    expect((await it.next()).done).toBe(true);
  });

  it("a user token reads its own channel; another user's channel is refused and reported alone", async () => {
    const token = signToken({ sub: "alice" });
    const { client, log } = makeClient({ url: e1.url, token });
    const mine = collect(client, "orders.user.alice");
    const theirs = collect(client, "orders.user.bob");
    client.connect();
    await waitUntil(() => log.error.length > 0 && log.subscribed.length > 0, "forbidden error and own subscription");
    // Each subscription is its own frame with its own id: the refusal names the one it answers.
    expect(log.error).toHaveLength(1);
    expect(log.error[0]).toMatchObject({ name: "ServerError", code: "forbidden", channels: ["orders.user.bob"] });
    expect(log.subscribed).toEqual([{ channels: ["orders.user.alice"], recovered: true }]);
    const id = await cluster.createOrder("alice");
    await cluster.createOrder("bob");
    await waitUntil(() => mine.length === 1, "own event");
    expect(mine[0]?.data).toMatchObject({ id, userId: "alice" });
    expect(theirs).toEqual([]);
  });

  it("processOrder resolves with the edge's result and rejects on a forbidden error frame", async () => {
    const id = await cluster.createOrder("carol");
    const anon = makeClient({ url: e1.url });
    anon.client.connect();
    await waitUntil(() => anon.log.open.length === 1, "anon open");
    await expect(anon.client.processOrder(id, "confirm")).rejects.toMatchObject({ name: "ServerError", code: "forbidden" });

    const admin = makeClient({ url: e1.url, token: signToken({ sub: "ops", admin: true }) });
    admin.client.connect();
    await waitUntil(() => admin.log.open.length === 1, "admin open");
    // order-api is not running in this test (ORDER_API_URL 127.0.0.1:1): the edge answers unavailable.
    const [a, b] = await Promise.all([admin.client.processOrder(id, "confirm"), admin.client.processOrder(id, "cancel")]);
    expect(a).toMatchObject({ orderId: id, errorCode: "unavailable" });
    expect(b).toMatchObject({ orderId: id, errorCode: "unavailable" });
  });
});
