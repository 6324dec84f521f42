import { OrderStore, Partitioning, type RedisConnection, channelStreams, closeRedis, createRedis, pubsubChannel, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

let redis: TestRedis;
let cmd: RedisConnection;
let node: EdgeNode;

/** Subscribers of every stream that carries `channel` (its partitions for an all-orders one); -1 when they differ. */
const numsub = async (channel: string): Promise<number> => {
  const counts = await Promise.all(
    channelStreams(channel, new Partitioning()).map(async (s) => Number(((await redis.client().pubsub("NUMSUB", pubsubChannel(s))) as [string, number])[1])),
  );
  return new Set(counts).size === 1 ? (counts[0] as number) : -1;
};

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  node = await startEdge(edgeConfig(redis.url), createLogger("warn", "fanout"));
});

afterAll(async () => {
  await node?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

describe("one Redis subscription per channel per node", () => {
  it("1,000 sockets on orders.status share one Redis subscriber, released after the last leaves", async () => {
    const clients: TestClient[] = [];
    for (let i = 0; i < 1000; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => connect(`ws://127.0.0.1:${node.port}/ws`)))));
    }
    const replies = await Promise.all(clients.map((c) => subscribeAndWait(c, ["orders.status"])));
    expect(replies.every((r) => r.type === "subscribed")).toBe(true);
    expect(await numsub("orders.status")).toBe(1);

    const store = new OrderStore(cmd);
    const { order } = await store.create(orderRequest("fan"));
    await store.transition(order.id, "confirm");
    await store.transition(order.id, "process");
    await waitUntil(() => clients.every((c) => c.events().length >= 2), "every socket got both events");
    await new Promise((r) => setTimeout(r, 50));
    for (const c of clients) expect(c.events().map((f) => (f["data"] as { status: string }).status)).toEqual(["CONFIRMED", "PROCESSING"]);

    // Half leave by unsubscribing, half by disconnecting.
    const half = clients.slice(0, 500);
    await Promise.all(
      half.map(async (c) => {
        const from = c.frames.length;
        c.send({ type: "unsubscribe", channels: ["orders.status"] });
        await c.next((f) => f.type === "unsubscribed", 5000, from);
      }),
    );
    expect(await numsub("orders.status")).toBe(1);
    await Promise.all(clients.slice(500, 999).map((c) => c.close()));
    expect(await numsub("orders.status")).toBe(1);
    await clients[999]?.close();
    await waitUntil(async () => (await numsub("orders.status")) === 0, "NUMSUB 0 after the last subscriber left");
    await Promise.all(half.map((c) => c.close()));
  });
});
