import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis } from "@orderstream/testkit";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect, connectAs, makeToken, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

// Protocol v1's auth (docs/protocol.md "Connecting"): the token in a `connect` frame, never in the
// URL; 4001 for a bad token, a first frame other than `connect`, or no `connect` in time; request
// ids echoed on every reply; Origin allow-list; the orderstream.v1 subprotocol.

let redis: TestRedis;
let cmd: RedisConnection;
let store: OrderStore;
let closed: EdgeNode; // anonymous access off, short connect timeout, an Origin allow-list
let open: EdgeNode; // anonymous access on
const clients: TestClient[] = [];
const log = createLogger("warn", "connect-test");
const url = (n: EdgeNode): string => `ws://127.0.0.1:${n.port}/ws`;
async function client(n: EdgeNode, headers: Record<string, string> = {}, protocols: string[] = []): Promise<TestClient> {
  const c = await connect(url(n), headers, protocols);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  store = new OrderStore(cmd);
  closed = await startEdge(
    edgeConfig(redis.url, {
      ANONYMOUS_ALL_ORDERS: "false",
      EDGE_CONNECT_TIMEOUT_MS: "400",
      EDGE_ALLOWED_ORIGINS: "https://App.Example.com, http://localhost:3000",
    }),
    log,
  );
  open = await startEdge(edgeConfig(redis.url), log);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await closed?.stop();
  await open?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

/** The node still serves: a fresh socket connects and subscribes. */
async function stillServes(n: EdgeNode): Promise<void> {
  const c = await connectAs(url(n), await makeToken(TEST_SECRET, "probe"));
  clients.push(c);
  expect(await subscribeAndWait(c, ["orders.user.probe"])).toMatchObject({ type: "subscribed" });
}

describe("connect frame", () => {
  it("answers connected with the user, exp and the request id, then serves the user's channel", async () => {
    const token = await makeToken(TEST_SECRET, "alice", { expiresIn: "1h" });
    const c = await client(closed);
    c.send({ type: "connect", token, id: "c-1" });
    const connected = await c.next((f) => f.type === "connected");
    expect(connected).toEqual({ type: "connected", user: "alice", exp: expect.any(Number), id: "c-1" });
    c.send({ type: "subscribe", channels: ["orders.user.alice"], id: 2 });
    expect(await c.next((f) => f.type === "subscribed")).toMatchObject({ channels: ["orders.user.alice"], id: 2 });
    const { order } = await store.create(orderRequest("alice"));
    expect(await c.next((f) => f.type === "order.created")).toMatchObject({ channel: "orders.user.alice", data: { id: order.id } });
    c.send({ type: "subscribe", channels: ["orders.created"], id: "s-2" });
    expect(await c.next((f) => f.type === "error")).toMatchObject({ error: { code: "forbidden" }, id: "s-2" });
    c.send({ type: "unsubscribe", channels: ["orders.user.alice"], id: 3 });
    expect(await c.next((f) => f.type === "unsubscribed")).toEqual({ type: "unsubscribed", channels: ["orders.user.alice"], id: 3 });
    c.send({ type: "refresh", token: await makeToken(TEST_SECRET, "alice", { expiresIn: "2h" }), id: 4 });
    expect(await c.next((f) => f.type === "refreshed")).toMatchObject({ exp: expect.any(Number), id: 4 });
    c.send({ type: "process_order", order_id: "nobody-s-order", id: 5 });
    expect(await c.next((f) => f.type === "error" && f["id"] === 5)).toMatchObject({ error: { code: "forbidden" } });
  });

  it("handles frames sent right behind connect once the token verified (jose's slow path)", async () => {
    // An extra header parameter takes the token past the synchronous HS256 path, to jose.
    const slow = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", cty: "orderstream" })
      .setSubject("bob")
      .setIssuedAt()
      .sign(new TextEncoder().encode(TEST_SECRET));
    const c = await client(closed);
    c.send({ type: "connect", token: slow, id: 1 });
    c.send({ type: "subscribe", channels: ["orders.user.bob"], id: 2 });
    expect(await c.next((f) => f.type === "subscribed")).toMatchObject({ id: 2 });
    expect(c.frames.map((f) => f.type)).toEqual(["connected", "subscribed"]);
  });

  it("closes with 4001 for a bad signature, an expired token and a wrong algorithm", async () => {
    const wrongSecret = await makeToken("another-secret", "mallory");
    const expired = await makeToken(TEST_SECRET, "alice", { expiresIn: -10 });
    const noneAlg = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from('{"sub":"root","admin":true}').toString("base64url")}.`;
    const hs512 = await new SignJWT({ admin: true })
      .setProtectedHeader({ alg: "HS512" })
      .setSubject("root")
      .sign(new TextEncoder().encode(TEST_SECRET));
    for (const token of [wrongSecret, expired, noneAlg, hs512]) {
      const c = await client(closed);
      c.send({ type: "connect", token, id: 1 });
      const close = await c.closed;
      expect(close, token.slice(0, 20)).toMatchObject({ code: 4001, reason: "unauthorized" });
      expect(c.frames.filter((f) => f.type === "connected")).toEqual([]);
    }
    await stillServes(closed);
  });

  it("closes with 4001 when the first frame is not connect (anonymous access off)", async () => {
    const c = await client(closed);
    c.send({ type: "subscribe", channels: ["orders.created"] });
    expect(await c.closed).toMatchObject({ code: 4001, reason: "unauthorized" });
    const garbage = await client(closed);
    garbage.send("{not json");
    expect((await garbage.closed).code).toBe(4001);
  });

  it("closes with 4001 a socket that sends no connect within EDGE_CONNECT_TIMEOUT_MS", async () => {
    const opened = Date.now();
    const c = await client(closed);
    const close = await c.closed;
    expect(close.code).toBe(4001);
    expect(close.at - opened).toBeGreaterThanOrEqual(350);
    expect(close.at - opened).toBeLessThan(2500);
    // A socket that connected in time stays.
    const ok = await connectAs(url(closed), await makeToken(TEST_SECRET, "carol"));
    clients.push(ok);
    await new Promise((r) => setTimeout(r, 700));
    expect(ok.ws.readyState).toBe(ok.ws.OPEN);
  });

  it("answers a garbage connect with a clear error (the socket may try again) and a second connect with bad_request", async () => {
    const c = await client(closed);
    for (const bad of [
      { type: "connect", id: 1 },
      { type: "connect", token: 42, id: 2 },
      { type: "connect", token: "", id: 3 },
    ]) {
      const from = c.frames.length;
      c.send(bad);
      const f = await c.next((x) => x.type === "error", 3000, from);
      expect(f).toMatchObject({ error: { code: "bad_request", message: expect.stringMatching(/token/) }, id: bad.id });
    }
    const token = await makeToken(TEST_SECRET, "dave");
    c.send({ type: "connect", token, id: 4 });
    expect(await c.next((f) => f.type === "connected")).toMatchObject({ user: "dave", id: 4 });
    c.send({ type: "connect", token, id: 5 });
    expect(await c.next((f) => f["id"] === 5)).toMatchObject({
      type: "error",
      error: { code: "bad_request", message: expect.stringMatching(/already connected/) },
    });
    expect(await subscribeAndWait(c, ["orders.user.dave"])).toMatchObject({ type: "subscribed" });
  });

  it("refuses ids of the wrong type or over 64 characters with a bad_request error that carries no id", async () => {
    const c = await client(open);
    for (const id of [true, null, { a: 1 }, [1], "x".repeat(65)]) {
      const from = c.frames.length;
      c.send({ type: "subscribe", channels: ["orders.created"], id });
      const f = await c.next((x) => x.type === "error" || x.type === "subscribed", 3000, from);
      expect(f, JSON.stringify(id).slice(0, 20)).toEqual({
        type: "error",
        error: { code: "bad_request", message: "field id must be a number or a string of at most 64 characters" },
      });
    }
    c.send({ type: "subscribe", channels: ["orders.created"], id: "x".repeat(64) });
    expect(await c.next((f) => f.type === "subscribed")).toMatchObject({ id: "x".repeat(64) });
    c.send({ type: "dance", id: 1.5 });
    expect(await c.next((f) => f.type === "error" && f["id"] === 1.5)).toMatchObject({ error: { code: "unknown_type" } });
  });

  it("lets an anonymous socket subscribe without connect, and connect later to become a user", async () => {
    const c = await client(open);
    expect(await subscribeAndWait(c, ["orders.created"])).toMatchObject({ type: "subscribed" });
    c.send({ type: "subscribe", channels: ["orders.user.erin"], id: 1 });
    expect(await c.next((f) => f.type === "error")).toMatchObject({ error: { code: "forbidden" }, id: 1 });
    c.send({ type: "connect", token: await makeToken(TEST_SECRET, "erin"), id: 2 });
    expect(await c.next((f) => f.type === "connected")).toMatchObject({ user: "erin", id: 2 });
    c.send({ type: "subscribe", channels: ["orders.user.erin"], id: 3 });
    expect(await c.next((f) => f["id"] === 3)).toMatchObject({ type: "subscribed", channels: ["orders.user.erin"] });
  });

  it("still accepts ?token= and Authorization at the upgrade (and refuses a bad one with HTTP 401)", async () => {
    const token = await makeToken(TEST_SECRET, "frank");
    const q = await connect(`${url(closed)}?token=${token}`);
    clients.push(q);
    expect(await subscribeAndWait(q, ["orders.user.frank"])).toMatchObject({ type: "subscribed" });
    const h = await client(closed, { authorization: `Bearer ${token}` });
    expect(await subscribeAndWait(h, ["orders.user.frank"])).toMatchObject({ type: "subscribed" });
    await expect(connect(`${url(closed)}?token=${await makeToken("wrong", "frank")}`)).rejects.toThrow("HTTP 401");
  });
});

describe("upgrade checks", () => {
  it("allows listed Origins in any letter case, and requests with no Origin; refuses others with HTTP 403", async () => {
    for (const origin of ["https://app.example.com", "HTTPS://APP.EXAMPLE.COM", "https://App.Example.com/", "http://LOCALHOST:3000"]) {
      const c = await client(closed, { origin });
      expect(c.ws.readyState, origin).toBe(c.ws.OPEN);
    }
    await client(closed); // no Origin: not a browser
    for (const origin of ["https://evil.example.com", "https://app.example.com.evil.com", "http://localhost:3001", "null"])
      await expect(connect(url(closed), { origin }), origin).rejects.toThrow("HTTP 403");
    await stillServes(closed);
  });

  it("answers the orderstream.v1 subprotocol when offered, and none otherwise", async () => {
    expect((await client(open, {}, ["orderstream.v1"])).ws.protocol).toBe("orderstream.v1");
    expect((await client(open, {}, ["chat", "orderstream.v1"])).ws.protocol).toBe("orderstream.v1");
    expect((await client(open)).ws.protocol).toBe("");
  });
});
