import { OFFSET_PATTERN } from "@orderstream/wire";
import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect, makeToken, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

let redis: TestRedis;
let cmd: RedisConnection;
let store: OrderStore;
let open: EdgeNode; // anonymous all-orders access on
let closed: EdgeNode; // anonymous access off
const clients: TestClient[] = [];
const log = createLogger("warn", "test");

const wsUrl = (n: EdgeNode, q = ""): string => `ws://127.0.0.1:${n.port}/ws${q}`;
async function client(n: EdgeNode, q = "", headers: Record<string, string> = {}): Promise<TestClient> {
  const c = await connect(wsUrl(n, q), headers);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  store = new OrderStore(cmd);
  open = await startEdge(edgeConfig(redis.url, { MAX_CHANNELS_PER_CONN: "3", MAX_CONNECTIONS: "40" }), log);
  closed = await startEdge(edgeConfig(redis.url, { ANONYMOUS_ALL_ORDERS: "false" }), log);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await open?.stop();
  await closed?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

describe("edge protocol", () => {
  it("serves the article's browser client unchanged: subscribe without token or since, then live events", async () => {
    const c = await client(open);
    const sub = await subscribeAndWait(c, ["orders.created", "orders.status"]);
    expect(sub).toMatchObject({ type: "subscribed", channels: ["orders.created", "orders.status"], recovered: true });
    expect(Object.keys(sub["offsets"] as object).sort()).toEqual(["orders.created", "orders.status"]);
    const { order } = await store.create(orderRequest("alice"));
    const created = await c.next((f) => f.type === "order.created");
    expect(created).toMatchObject({ channel: "orders.created", data: { id: order.id, userId: "alice", status: "PENDING", total: 19 } });
    // Composite (every partition's position) on the all-orders channels, in the contract's shape.
    expect(created["offset"]).toMatch(OFFSET_PATTERN);
    await store.transition(order.id, "confirm");
    const status = await c.next((f) => f.type === "order.status");
    expect(status).toMatchObject({ channel: "orders.status", data: { id: order.id, status: "CONFIRMED" } });
  });

  it("resumes from a since offset with exactly the missed events, and reports recovered:false for an unknown epoch", async () => {
    const first = await client(open);
    const sub = await subscribeAndWait(first, ["orders.created"]);
    const since = (sub["offsets"] as Record<string, string>)["orders.created"] as string;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await store.create(orderRequest("bob"))).order.id);
    await first.next(() => first.events("orders.created").length >= 3);
    const resumed = await client(open);
    const reply = await subscribeAndWait(resumed, ["orders.created"], { "orders.created": since });
    expect(reply).toMatchObject({ type: "subscribed", recovered: true });
    // Each order's events in order; orders of different partitions may interleave either way.
    expect(resumed.events("orders.created").map((f) => (f["data"] as { id: string }).id).sort()).toEqual([...ids].sort());
    const stale = await client(open);
    const r2 = await subscribeAndWait(stale, ["orders.created"], { "orders.created": "zzzzzzzz:1" });
    expect(r2).toMatchObject({ type: "subscribed", recovered: false });
    expect(stale.events()).toEqual([]);
  });

  it("lets a client resume from the `:0` offset of a channel that had no history yet", async () => {
    const token = await makeToken(TEST_SECRET, "newbie");
    const first = await client(open, `?token=${token}`);
    const sub = await subscribeAndWait(first, ["orders.user.newbie"]);
    expect(sub["offsets"]).toEqual({ "orders.user.newbie": ":0" });
    const { order } = await store.create(orderRequest("newbie"));
    await store.transition(order.id, "confirm");
    await first.next(() => first.events().length === 2);
    const again = await client(open, `?token=${token}`);
    const reply = await subscribeAndWait(again, ["orders.user.newbie"], { "orders.user.newbie": ":0" });
    expect(reply).toMatchObject({ type: "subscribed", recovered: true });
    expect(again.events().map((f) => f.type)).toEqual(["order.created", "order.status"]);
  });

  it("answers bad input with the documented error frames and keeps serving", async () => {
    const c = await client(open);
    const cases: [string, string][] = [
      ["{not json", "bad_request"],
      [JSON.stringify({ type: "dance" }), "unknown_type"],
      [JSON.stringify({ type: "subscribe", channels: "orders.created" }), "bad_request"],
      [JSON.stringify({ type: "subscribe", channels: ["orders.*"] }), "bad_channel"],
      [JSON.stringify({ type: "subscribe", channels: ["orders.user." + "x".repeat(10_000)] }), "bad_channel"],
      [JSON.stringify({ type: "subscribe", channels: ["*"] }), "bad_channel"],
      [JSON.stringify({ type: "unsubscribe", channels: 5 }), "bad_request"],
      [JSON.stringify({ type: "subscribe", channels: ["orders.status"], since: { "orders.status": "nope" } }), "bad_request"],
      [JSON.stringify([1, 2]), "bad_request"],
    ];
    for (const [text, code] of cases) {
      const from = c.frames.length;
      c.send(text);
      const f = await c.next((x) => x.type === "error", 3000, from);
      expect(f, text.slice(0, 60)).toMatchObject({ error: { code } });
    }
    expect(await subscribeAndWait(c, ["orders.status"])).toMatchObject({ type: "subscribed" });
  });

  it("closes a socket that sends binary frames with 4400", async () => {
    const c = await client(open);
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c.closed).code).toBe(4400);
  });

  it("closes a socket that sends a 2 MB frame while others keep being served", async () => {
    const other = await client(open);
    await subscribeAndWait(other, ["orders.created"]);
    const big = await client(open);
    big.send("x".repeat(2 * 1024 * 1024));
    const { code } = await big.closed;
    expect([1006, 1009]).toContain(code);
    const { order } = await store.create(orderRequest("carol"));
    await other.next((f) => f.type === "order.created" && (f["data"] as { id: string }).id === order.id);
  });

  it("rate limits a burst of 10,000 subscribe frames, then closes with 4008", async () => {
    const c = await client(open);
    const frame = JSON.stringify({ type: "subscribe", channels: ["orders.status"] });
    for (let i = 0; i < 10_000 && c.ws.readyState === c.ws.OPEN; i++) c.send(frame);
    const { code } = await c.closed;
    expect(code).toBe(4008);
    expect(c.frames.filter((f) => f.type === "error").map((f) => (f["error"] as { code: string }).code)).toContain("rate_limited");
    const ok = await client(open);
    expect(await subscribeAndWait(ok, ["orders.status"])).toMatchObject({ type: "subscribed" });
  });

  it("refuses missing-where-required, expired, wrongly signed and garbage tokens", async () => {
    const expired = await makeToken(TEST_SECRET, "u1", { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    await expect(client(open, `?token=${expired}`)).rejects.toThrow("HTTP 401");
    const wrong = await makeToken("another-secret", "u1");
    await expect(client(open, `?token=${wrong}`)).rejects.toThrow("HTTP 401");
    await expect(client(open, "", { authorization: "Bearer garbage.token.here" })).rejects.toThrow("HTTP 401");
    // Anonymous access off: a socket without a token must `connect` first (connect.int.test.ts).
    const anon = await client(closed);
    anon.send({ type: "subscribe", channels: ["orders.created"] });
    expect((await anon.closed).code).toBe(4001);
  });

  it("lets a user subscribe to their own channel only, and an admin to everything", async () => {
    const token = await makeToken(TEST_SECRET, "dave");
    const user = await client(closed, "", { authorization: `Bearer ${token}` });
    expect(await subscribeAndWait(user, ["orders.user.erin"])).toMatchObject({ error: { code: "forbidden" } });
    expect(await subscribeAndWait(user, ["orders.status"])).toMatchObject({ error: { code: "forbidden" } });
    expect(await subscribeAndWait(user, ["orders.user.dave"])).toMatchObject({ type: "subscribed" });
    const admin = await client(closed, `?token=${await makeToken(TEST_SECRET, "root", { admin: true })}`);
    expect(await subscribeAndWait(admin, ["orders.created", "orders.user.dave"])).toMatchObject({ type: "subscribed" });
    const { order } = await store.create(orderRequest("dave"));
    await store.create(orderRequest("erin"));
    const mine = await user.next((f) => f.type === "order.created");
    expect(mine).toMatchObject({ channel: "orders.user.dave", data: { id: order.id } });
    await admin.next(() => admin.events("orders.created").length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(user.events().every((f) => f["channel"] === "orders.user.dave")).toBe(true);
  });

  it("enforces MAX_CHANNELS_PER_CONN and frees slots on unsubscribe", async () => {
    const c = await client(open, `?token=${await makeToken(TEST_SECRET, "root", { admin: true })}`);
    expect(await subscribeAndWait(c, ["orders.user.a", "orders.user.b", "orders.user.c", "orders.user.d"])).toMatchObject({
      error: { code: "too_many_channels" },
    });
    expect(await subscribeAndWait(c, ["orders.user.a", "orders.user.b", "orders.user.c"])).toMatchObject({ type: "subscribed" });
    c.send({ type: "unsubscribe", channels: ["orders.user.a"] });
    expect(await c.next((f) => f.type === "unsubscribed")).toMatchObject({ channels: ["orders.user.a"] });
    expect(await subscribeAndWait(c, ["orders.user.d"])).toMatchObject({ type: "subscribed" });
  });

  it("refuses upgrades beyond MAX_CONNECTIONS with 503", async () => {
    const extra: TestClient[] = [];
    let refused: unknown;
    for (let i = 0; i < 60 && !refused; i++) {
      try {
        extra.push(await connect(wsUrl(open)));
      } catch (err) {
        refused = err;
      }
    }
    expect(String(refused)).toContain("HTTP 503");
    expect(open.connections()).toBeLessThanOrEqual(40);
    await Promise.all(extra.map((c) => c.close()));
  });

  it("refuses to start on a port that is already taken", async () => {
    await expect(startEdge(edgeConfig(redis.url, { EDGE_PORT: String(open.port) }), log)).rejects.toThrow("cannot listen");
  });

  it("serves /healthz, /readyz, /metrics and the dashboard on the same port", async () => {
    const base = `http://127.0.0.1:${open.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { redis: true, notDraining: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^orderstream_edge_connections\{node="[^"]+"\} \d+/m);
    expect(metrics).toMatch(/^orderstream_edge_history_reads_total\{node="[^"]+"\} \d+/m);
    expect(metrics).toMatch(/^orderstream_edge_errors_total\{code="bad_channel"/m);
    expect(metrics).toContain("orderstream_edge_fanout_duration_seconds_bucket");
    expect(metrics).toMatch(/^orderstream_edge_redis_up\{node="[^"]+"\} 1$/m);
    // Node's standard metrics keep their stock names.
    expect(metrics).toMatch(/^process_cpu_seconds_total\{/m);
    expect(metrics).not.toMatch(/^(?!orderstream_|process_|nodejs_)[a-z_]+\{/m);
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain("orders.created");
    expect(page).toContain("/ws");
  });
});
