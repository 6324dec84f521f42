import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { type Order, type OrderServiceClient, OrderStatus } from "@orderstream/proto";
import { ClientFleet, type FleetClient, type FleetClientSpec } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { createOrder, orderClient, orderRequest } from "./grpc-orders.js";
import { type FlowOrder, OrderFlow } from "./order-flow.js";

const SOCKETS = scaled(300, 12);
const OFFLINE = scaled(30, 3);
const USERS = scaled(30, 3);
const RATE_PER_S = 200;

let cluster: LocalCluster;
let grpc: OrderServiceClient;
const live = new ClientFleet();
const before = new ClientFleet();
const after = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({ edges: 2, processors: 1, env: { HISTORY_SIZE: "1000000" }, processorEnv: { SHIP_DELAY_MS: "0" } });
  grpc = orderClient(cluster.apiPort);
});

afterAll(async () => {
  for (const f of [live, before, after]) f.close();
  grpc?.close();
  await cluster?.stop();
});

/** The acknowledged events of a channel, as `type|orderId|status` keys. */
function ackedEvents(orders: FlowOrder[], channel: string): string[] {
  const out: string[] = [];
  for (const o of orders) {
    const mine = channel === "orders.created" || channel === "orders.status" || channel === `orders.user.${o.userId}`;
    if (!mine) continue;
    if (channel !== "orders.status") out.push(`order.created|${o.id}|PENDING`);
    if (channel !== "orders.created" && o.confirmed) out.push(`order.status|${o.id}|CONFIRMED`);
  }
  return out;
}

/** Acked events of `client`'s channels it never received, per channel (only where any is missing). */
function missed(client: FleetClient, orders: FlowOrder[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const ch of client.channels) {
    const got = new Set((client.events.get(ch) ?? []).map((e) => `${e.type}|${e.orderId}|${e.status}`));
    const n = ackedEvents(orders, ch).filter((k) => !got.has(k)).length;
    if (n > 0) out.set(ch, n);
  }
  return out;
}

/** Creates `n` orders on a fresh connection right away (the flow's own connection may be in backoff). */
async function writeEarly(url: string, users: string[], n: number): Promise<FlowOrder[]> {
  const conn = createRedis(url, { role: "command", name: "fault-test-early" });
  try {
    await waitReady(conn);
    const store = new OrderStore(conn, { history: { size: 1_000_000, ttlMs: 3_600_000, metaTtlMs: 86_400_000 } });
    const out: FlowOrder[] = [];
    for (let i = 0; i < n; i++) {
      const { order } = await store.create(orderRequest(users[i % users.length] as string, i));
      out.push({ id: order.id, userId: order.userId, confirmed: false, createdAt: Date.now() });
    }
    return out;
  } finally {
    await closeRedis(conn);
  }
}

const readyz = async (port: number): Promise<boolean> => {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
};

describe("Redis restarted empty under load", () => {
  it("never loses silently (recoveryFailed), and the cluster serves new orders again without restarts", async () => {
    const [a, b] = cluster.edges as [(typeof cluster.edges)[0], (typeof cluster.edges)[0]];
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
    const admin = signToken(cluster.jwtSecret, { sub: "ops", admin: true });
    const spec = (i: number): FleetClientSpec => {
      const urls = i % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      if (i % 10 === 0) return { urls, token: admin, channels: ["orders.created", "orders.status"] };
      const user = users[i % USERS] as string;
      return { urls, token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
    };
    await live.connect(Array.from({ length: SOCKETS }, (_, i) => spec(i)));
    await before.connect(Array.from({ length: OFFLINE }, (_, i) => spec(i)));

    const flow = new OrderFlow({ redisUrl: cluster.redis.url, ratePerS: RATE_PER_S, users, confirm: true });
    await flow.start();
    await waitUntil(() => flow.created >= RATE_PER_S, "1 s of orders", 20_000);
    // Offline clients: they leave now and come back after the restart with their saved offsets.
    await waitUntil(() => before.clients.every((c) => c.channels.every((ch) => (c.events.get(ch)?.length ?? 0) > 0)), "offline clients have positions");
    const saved = before.clients.map((c) => c.client.offsets());
    before.close();
    await sleep(300);

    const orders: FlowOrder[] = [];
    const stoppedAt = Date.now();
    const createdBeforeStop = flow.created;
    await cluster.redis.stop();
    await sleep(1000);
    await cluster.redis.start();
    const restartedAt = Date.now();
    // Orders written the moment Redis is back, before the edges' subscribers have reconnected.
    const early = await writeEarly(cluster.redis.url, users, 5);
    orders.push(...early);
    // No service is restarted: every edge must become ready again on its own.
    await waitUntil(async () => (await readyz(a.port)) && (await readyz(b.port)), "edges ready again", 30_000, 100);
    const readyAt = Date.now();
    const firstGrpc = (await waitUntil(
      async () => createOrder(grpc, orderRequest("u0"), 2000).catch(() => undefined),
      "gRPC CreateOrder works again",
      30_000,
      200,
    )) as Order;
    await waitUntil(() => flow.created >= createdBeforeStop + 2 * RATE_PER_S, "2 s of orders after the restart", 30_000);

    // The offline clients come back (a page reload) and resume from the offsets saved before the restart.
    await after.connect(before.clients.map((c, i) => ({ ...spec(i), channels: c.channels, offsets: saved[i] ?? {} })));
    await sleep(500);
    await flow.stop();
    orders.push(...flow.orders);
    const newOrders = orders.filter((o) => o.createdAt >= readyAt + 500);
    await waitUntil(() => live.clients.every((c) => missed(c, newOrders).size === 0), "new orders delivered to every live client", 30_000, 100);
    await waitUntil(() => live.clients.some((c) => (c.events.get("orders.created") ?? []).some((e) => e.orderId === firstGrpc.id)), "gRPC order delivered", 10_000);

    // The processor recovered too: it confirms and processes the order created over gRPC after the restart.
    const redis = cluster.redis.client();
    const store = new OrderStore(redis);
    await waitUntil(async () => (await store.get(firstGrpc.id))?.status === OrderStatus.PROCESSING, "processor works again", 30_000, 100);

    let silent = 0;
    let lossReported = 0;
    let missedEvents = 0;
    const examples: string[] = [];
    for (const c of live.clients) {
      const failed = new Set(c.recoveryFailed.flat());
      for (const [ch, n] of missed(c, orders)) {
        missedEvents += n;
        if (failed.has(ch)) lossReported++;
        else {
          silent++;
          if (examples.length < 5) examples.push(`client ${c.index} ${ch}: missed ${n} acknowledged events without recoveryFailed`);
        }
      }
    }
    const liveRecoveryFailed = live.clients.filter((c) => c.recoveryFailed.length > 0).length;
    const offlineRecoveryFailed = after.clients.filter((c) => c.recoveryFailed.length > 0).length;
    report("redis-restart", {
      sockets: SOCKETS,
      offline: OFFLINE,
      outageMs: restartedAt - stoppedAt,
      edgesReadyMsAfterRestart: readyAt - restartedAt,
      orders: orders.length,
      flowFailures: flow.failures,
      newOrdersChecked: newOrders.length,
      earlyOrders: early.length,
      liveRecoveryFailed,
      offlineRecoveryFailed,
      missedEvents,
      lossReported,
      silentLoss: silent,
      examples,
    });
    const services = [cluster.api, ...cluster.processors, ...cluster.edges.map((e) => e.proc)];
    expect(services.map((p) => p?.proc.exitCode ?? null)).toEqual(services.map(() => null)); // none restarted
    expect(flow.failures).toBeGreaterThan(0); // writes really failed while Redis was down
    expect(offlineRecoveryFailed).toBe(OFFLINE);
    // Every live client's channels moved to a new epoch under it: each was told its history was lost.
    expect(liveRecoveryFailed).toBe(SOCKETS);
    expect(examples).toEqual([]);
    expect(silent).toBe(0);
  }, 150_000);
});
