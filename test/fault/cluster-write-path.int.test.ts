import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import type { OrderServiceClient } from "@orderstream/proto";
import type { Cluster } from "ioredis";
import { report, scaled } from "./fault-scale.js";
import { bulkCreate, createOrder, orderClient, orderRequest } from "./grpc-orders.js";
import { checkLifecycles, undelivered } from "./order-lifecycle-check.js";

// The whole cluster (order-api, 2 processors, an edge) as child processes on a 3-master Redis
// Cluster: the write path end to end, exactly once on every channel, and spread over the masters.
const SPREAD_ORDERS = scaled(10_000, 2000);
const USERS = Array.from({ length: 200 }, (_, i) => `cu${i}`);

let cluster: LocalCluster;
let redis: Cluster;
let grpc: OrderServiceClient;

beforeAll(async () => {
  cluster = await startLocalCluster({
    redis: "cluster",
    edges: 1,
    processors: 2,
    env: { HISTORY_SIZE: "1000000" },
    processorEnv: { SHIP_DELAY_MS: "1", DELIVER_DELAY_MS: "1", DUE_SWEEP_INTERVAL_MS: "200" },
  });
  redis = cluster.redisClient() as Cluster;
  grpc = orderClient(cluster.apiPort);
}, 90_000);

afterAll(async () => {
  grpc?.close();
  await cluster?.stop();
});

/**
 * Commands executed per master since the last CONFIG RESETSTAT (sum of `calls` in commandstats,
 * commands run by scripts included), with each master's busiest commands for the report.
 */
async function commandsPerMaster(): Promise<{ calls: number; top: string }[]> {
  const masters = await (cluster.redisCluster as NonNullable<LocalCluster["redisCluster"]>).masters();
  return Promise.all(
    masters.map(async (m) => {
      const info = await cluster.redisCluster?.nodeClient(m.port).info("commandstats");
      const per = [...(info ?? "").matchAll(/cmdstat_([^:]+):calls=(\d+)/g)].map((x) => [x[1] ?? "", Number(x[2])] as const);
      const calls = per.reduce((a, [, n]) => a + n, 0);
      const top = [...per].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([c, n]) => `${c}=${n}`).join(" ");
      return { calls, top };
    }),
  );
}

describe("the write path on a 3-master Redis Cluster", () => {
  it("an order created over gRPC reaches DELIVERED, and a WebSocket subscriber on the edge sees each event once", async () => {
    const edge = cluster.edges[0] as LocalCluster["edges"][0];
    const token = signToken(cluster.jwtSecret, { sub: "cluster-alice" });
    const ws = new WebSocket(`${edge.url}?token=${token}`);
    const frames: { type: string; channel?: string; data?: { id: string; status: string } }[] = [];
    ws.on("message", (m) => frames.push(JSON.parse(String(m)) as (typeof frames)[0]));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(JSON.stringify({ type: "subscribe", channels: ["orders.user.cluster-alice", "orders.status"] }));
    await waitUntil(() => frames.some((f) => f.type === "subscribed"), "subscribed");
    const order = await createOrder(grpc, orderRequest("cluster-alice"));
    const on = (channel: string) => frames.filter((f) => f.data?.id === order.id && f.channel === channel).map((f) => f.data?.status);
    await waitUntil(
      () => on("orders.user.cluster-alice").length === 5 && on("orders.status").length === 4,
      "5 events on the user channel and 4 on orders.status",
      20_000,
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
    ws.close();
    expect(on("orders.user.cluster-alice")).toEqual(["PENDING", "CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"]);
    expect(on("orders.status")).toEqual(["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"]);
  }, 60_000);

  it(`${SPREAD_ORDERS} orders: all DELIVERED with exactly one event per step on every channel, each master doing 20-46% of the commands`, async () => {
    await waitUntil(async () => (await undelivered(redis)) === 0, "earlier orders settled", 30_000, 200);
    const masters = await (cluster.redisCluster as NonNullable<LocalCluster["redisCluster"]>).masters();
    await Promise.all(masters.map((m) => cluster.redisCluster?.nodeClient(m.port).config("RESETSTAT")));
    // Half unary (64 in flight), half bulk.
    let next = 0;
    const unary = Math.floor(SPREAD_ORDERS / 2);
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < unary) {
          const n = next++;
          await createOrder(grpc, orderRequest(USERS[n % USERS.length] as string, n), 10_000);
        }
      }),
    );
    const bulk = await bulkCreate(grpc, SPREAD_ORDERS - unary, USERS, () => undefined);
    expect(bulk.error).toBeUndefined();
    await waitUntil(async () => (await undelivered(redis)) === 0, "every order DELIVERED", 120_000, 500);
    const perMaster = await commandsPerMaster();
    const calls = perMaster.map((m) => m.calls);
    const total = calls.reduce((a, b) => a + b, 0);
    const shares = calls.map((c) => c / total);
    const check = await checkLifecycles(redis);
    report("cluster-write-path/spread", { ordersCreated: SPREAD_ORDERS, commandsPerMaster: calls, busiest: perMaster.map((m) => m.top), shares: shares.map((s) => s.toFixed(3)), ...check });
    expect(check.examples).toEqual([]);
    expect(check.bad).toBe(0);
    expect(check.dueLeft).toBe(0);
    expect(check.statusEvents).toBe(4 * check.orders);
    for (const s of shares) {
      expect(s).toBeGreaterThanOrEqual(0.2);
      expect(s).toBeLessThanOrEqual(0.46);
    }
  }, 240_000);
});
