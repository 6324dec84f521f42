import type { Socket } from "node:net";
import { OrderStore, type RedisConnection, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompressionMode } from "./compression.js";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect, subscribeAndWait } from "./test-support/ws-client.js";

let redis: TestRedis;
let cmd: RedisConnection;
let store: OrderStore;
const nodes = new Map<CompressionMode, EdgeNode>();
const MODES: CompressionMode[] = ["off", "shared", "dedicated-4kb"];

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  store = new OrderStore(cmd);
  for (const mode of MODES)
    nodes.set(mode, await startEdge(edgeConfig(redis.url, { EDGE_COMPRESSION: mode }), createLogger("warn", `deflate-${mode}`)));
});

afterAll(async () => {
  await Promise.all([...nodes.values()].map((n) => n.stop()));
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

/** An order the size of a real one: a few line items with realistic product ids. */
const order = (i: number) => ({
  userId: `user-${i % 7}`,
  items: [
    { productId: `sku-${1000 + i}-blk-m`, quantity: 1 + (i % 3), price: 19.99 },
    { productId: `sku-${2000 + i}-wht-l`, quantity: 2, price: 7.5 },
    { productId: `sku-${3000 + i}-red-s`, quantity: 1, price: 129 },
  ],
});

/** Bytes the client's TCP socket has read so far (frames as they came over the wire). */
const bytesRead = (c: TestClient): number => (c.ws as unknown as { _socket: Socket })._socket.bytesRead;

/** What uWS answers to a permessage-deflate offer, per mode (the shared compressor resets per frame). */
const NEGOTIATED: Record<CompressionMode, string | undefined> = {
  off: undefined,
  shared: "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
  "dedicated-4kb": "permessage-deflate; client_no_context_takeover; server_max_window_bits=9",
} as Record<CompressionMode, string | undefined>;

/** The node's Sec-WebSocket-Extensions answer to an upgrade offering `offer` (undefined: none offered / none answered). */
function negotiated(to: string, offer: string | undefined): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(to, { perMessageDeflate: false, headers: offer ? { "sec-websocket-extensions": offer } : {} });
    ws.once("upgrade", (res) => {
      resolve(res.headers["sec-websocket-extensions"]);
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

const url = (mode: CompressionMode): string => `ws://127.0.0.1:${nodes.get(mode)?.port}/ws`;

describe.each(MODES)("EDGE_COMPRESSION=%s", (mode) => {
  it("deflates frames only for a client that offered permessage-deflate; both get the same frames, live and replayed", async () => {
    const reply = await negotiated(url(mode), "permessage-deflate; client_max_window_bits");
    expect(reply).toBe(NEGOTIATED[mode]);
    expect(await negotiated(url(mode), undefined)).toBeUndefined();
    const deflating = await connect(url(mode));
    const plain = await connect(url(mode), {}, [], { perMessageDeflate: false });
    expect(plain.ws.extensions).toBe("");
    expect(deflating.ws.extensions).toBe(mode === "off" ? "" : "permessage-deflate");

    const [subD, subP] = await Promise.all([
      subscribeAndWait(deflating, ["orders.created", "orders.status"]),
      subscribeAndWait(plain, ["orders.created", "orders.status"]),
    ]);
    expect(subD).toMatchObject({ type: "subscribed" });
    expect(subP).toMatchObject({ type: "subscribed" });
    const since = subD["offsets"] as Record<string, string>;
    const before = [bytesRead(deflating), bytesRead(plain)] as const;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { order: o } = await store.create(order(i));
      await store.transition(o.id, "confirm");
      ids.push(o.id);
    }
    await waitUntil(() => deflating.events().length >= 40 && plain.events().length >= 40, "both clients got every event");
    await new Promise((r) => setTimeout(r, 50));
    expect(deflating.events()).toEqual(plain.events());
    expect(
      deflating
        .events("orders.created")
        .map((f) => (f["data"] as { id: string }).id)
        .sort(),
    ).toEqual([...ids].sort());
    const deflated = bytesRead(deflating) - before[0];
    const asIs = bytesRead(plain) - before[1];
    if (mode === "off") expect(deflated).toBe(asIs);
    else expect(deflated).toBeLessThan(asIs * 0.8);

    // A reply and the catch-up sent by `since` go through the socket's own send (deflated too).
    const bad = await subscribeAndWait(deflating, ["no such channel"]);
    expect(bad).toMatchObject({ type: "error", error: { code: "bad_channel" } });
    const resumed = await connect(url(mode));
    const resumedReply = await subscribeAndWait(resumed, ["orders.created"], { "orders.created": since["orders.created"] as string });
    expect(resumedReply).toMatchObject({ type: "subscribed", recovered: true });
    await waitUntil(() => resumed.events().length >= 20, "the resumed client got the missed events");
    // Replayed grouped by partition (with the replay's offsets): the same orders, maybe in another order.
    const orders = (c: TestClient) =>
      c
        .events("orders.created")
        .map((f) => JSON.stringify(f["data"]))
        .sort();
    expect(orders(resumed)).toEqual(orders(deflating));
    await Promise.all([deflating.close(), plain.close(), resumed.close()]);
  });
});
