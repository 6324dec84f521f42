import { OrderStore, Partitioning, type RedisConnection, channelStreams, closeRedis, createRedis, pubsubChannel, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

let redis: TestRedis;
let node: EdgeNode;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  node = await startEdge(edgeConfig(redis.url), createLogger("silent", "outage"));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await node?.stop();
  await redis?.stop();
});

const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${node.port}/readyz`)).status;

describe("Redis outage", () => {
  it("goes unready, answers a subscribe with `unavailable` and rolls it back, then recovers", async () => {
    const live = await connect(`ws://127.0.0.1:${node.port}/ws`);
    const late = await connect(`ws://127.0.0.1:${node.port}/ws`);
    clients.push(live, late);
    expect(await subscribeAndWait(live, ["orders.status"])).toMatchObject({ type: "subscribed" });
    await redis.stop();
    await waitUntil(async () => (await readyz()) === 503, "readyz 503 while Redis is down");
    expect((await fetch(`http://127.0.0.1:${node.port}/healthz`)).status).toBe(200);
    const reply = await subscribeAndWait(late, ["orders.created"]).catch((e: unknown) => e);
    expect(reply).toMatchObject({ type: "error", error: { code: "unavailable" } });

    await redis.start();
    await waitUntil(async () => (await readyz()) === 200, "readyz 200 after Redis is back");
    expect(await subscribeAndWait(late, ["orders.created"])).toMatchObject({ type: "subscribed" });
    for (const stream of channelStreams("orders.created", new Partitioning())) {
      const numsub = (await redis.client().pubsub("NUMSUB", pubsubChannel(stream))) as [string, number];
      expect(Number(numsub[1]), stream).toBe(1);
    }

    const cmd: RedisConnection = createRedis(redis.url, { role: "command", name: "test" });
    await waitReady(cmd);
    const store = new OrderStore(cmd);
    const { order } = await store.create(orderRequest("zed"));
    await store.transition(order.id, "confirm");
    await late.next((f) => f.type === "order.created");
    await live.next((f) => f.type === "order.status" && (f["data"] as { id: string }).id === order.id, 10_000);
    await closeRedis(cmd);
  });
});
