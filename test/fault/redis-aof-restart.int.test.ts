import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStore } from "@orderstream/bus";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { type OrderServiceClient, OrderStatus } from "@orderstream/proto";
import type { Redis } from "ioredis";
import { ClientFleet, type FleetClientSpec, type SeenEvent } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { OrderCallers, twoEdgeFleet, waitSocketsLive } from "./failover-flow.js";
import { orderClient } from "./grpc-orders.js";
import { checkSequences, readHistory } from "./history-truth.js";

// The whole order path on one redis-server with AOF on, orders flowing over gRPC and SDK sockets
// subscribed, when Redis is restarted on the same data dir: nothing is lost, so every socket
// resumes with recovered:true and ends with exactly its channels' history, and every order completes.
const SOCKETS = scaled(40, 10);
const USERS = Array.from({ length: scaled(10, 3) }, (_, i) => `au${i}`);
const OFFLINE = scaled(8, 3);
const CONCURRENCY = 8;

let cluster: LocalCluster;
let grpc: OrderServiceClient;
const fleet = new ClientFleet();
const before = new ClientFleet();
const after = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({
    appendonly: true,
    edges: 2,
    processors: 1,
    env: { HISTORY_SIZE: "1000000" },
    // A job whose step failed while Redis was down loses its lock ("Missing lock … moveToDelayed")
    // and waits for BullMQ's stalled check: short here so that it is taken over within seconds.
    processorEnv: {
      SHIP_DELAY_MS: "1",
      DELIVER_DELAY_MS: "1",
      DUE_SWEEP_INTERVAL_MS: "200",
      DUE_GRACE_MS: "1000",
      JOB_LOCK_MS: "2000",
      STALLED_INTERVAL_MS: "1000",
    },
  });
  grpc = orderClient(cluster.apiPort);
}, 60_000);

afterAll(async () => {
  for (const f of [fleet, before, after]) f.close();
  grpc?.close();
  await cluster?.stop();
});

describe("Redis restarted with AOF (same data dir) under a flow of orders", () => {
  it("every socket resumes with recovered:true and nothing missing; every acknowledged order is kept and DELIVERED", async () => {
    const [a, b] = cluster.edges as [LocalCluster["edges"][0], LocalCluster["edges"][0]];
    await fleet.connect(twoEdgeFleet(cluster, SOCKETS, USERS));

    // CONCURRENCY callers create orders one after the other; failures (UNAVAILABLE) are counted.
    const orders = new OrderCallers(grpc, USERS, CONCURRENCY);
    const { accepted, failures } = orders;
    await waitUntil(() => accepted.length >= 200, "200 orders before the restart", 30_000);
    // Offline clients (a user's channel each): they leave now and come back after the restart
    // with the offsets they saved, as a page reload would.
    const userSpec = (i: number): FleetClientSpec => {
      const user = USERS[i % USERS.length] as string;
      return { urls: [a.url, b.url], token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
    };
    await before.connect(Array.from({ length: OFFLINE }, (_, i) => userSpec(i)));
    await waitUntil(
      () => before.clients.every((c) => c.channels.every((ch) => (c.events.get(ch)?.length ?? 0) > 0)),
      "offline clients have positions",
    );
    const saved = before.clients.map((c) => c.client.offsets());
    before.close();

    // A plain restart: SIGTERM (Redis flushes its AOF on shutdown), then the same port and data dir.
    const t0 = Date.now();
    await cluster.redis.stop();
    await sleep(500);
    await cluster.redis.start();
    const restartedAt = Date.now();
    const firstAfter = await orders.firstAcceptedAfter(restartedAt, "an order accepted after the restart", 30_000);
    const writesAgainMs = firstAfter - t0;
    // Every socket is live again once it has received an event of an order accepted after the restart.
    await waitSocketsLive(fleet, orders, restartedAt, "every socket receives events of orders accepted after the restart");
    const socketsLiveMs = Date.now() - t0;
    await after.connect(before.clients.map((_c, i) => ({ ...userSpec(i), offsets: saved[i] ?? {} })));
    await sleep(1000);
    await orders.stop();

    // Nothing acknowledged is lost: every accepted order is in Redis and completes.
    const redis = cluster.redisClient() as Redis;
    const store = new OrderStore(redis);
    await waitUntil(
      async () => {
        const got = await Promise.all(accepted.map((o) => store.get(o.id)));
        return got.every((o) => o?.status === OrderStatus.DELIVERED);
      },
      "every accepted order DELIVERED",
      30_000,
      200,
    ).catch(async (err: Error) => {
      const counts: Record<string, number> = {};
      for (const o of await Promise.all(accepted.map((x) => store.get(x.id)))) {
        const k = o === undefined ? "missing" : OrderStatus[o.status];
        counts[k] = (counts[k] ?? 0) + 1;
      }
      throw new Error(`${err.message}: ${JSON.stringify(counts)}\nprocessor:\n${cluster.processors[0]?.output().slice(-3000)}`);
    });
    const lostOrders = (await Promise.all(accepted.map((o) => store.get(o.id)))).filter((o) => o === undefined).length;

    // Every socket holds exactly its channels' history (the last frames may still be on their way).
    // A client resumed with saved offsets got exactly the history after its offset.
    const resumed = (truth: Map<string, SeenEvent[]>): string[] => {
      const wrong: string[] = [];
      for (const [i, c] of after.clients.entries()) {
        for (const ch of c.channels) {
          const want = (truth.get(ch) ?? []).map((e) => e.offset);
          const from = want.indexOf(saved[i]?.[ch] ?? "");
          const got = (c.events.get(ch) ?? []).map((e) => e.offset);
          const tail = want.slice(from + 1);
          if (from < 0 || got.length !== tail.length || got.some((o, k) => o !== tail[k])) {
            wrong.push(`client ${i} ${ch}: from ${saved[i]?.[ch]} (at ${from}), got ${got.length}, want ${tail.length}`);
          }
        }
      }
      return wrong;
    };
    const channels = [...new Set([...fleet.channels(), ...after.channels()])];
    let truth = await readHistory(redis, channels);
    let check = checkSequences(fleet, truth);
    let resumedWrong = resumed(truth);
    for (const deadline = Date.now() + 15_000; (check.mismatched > 0 || resumedWrong.length > 0) && Date.now() < deadline; ) {
      await sleep(500);
      truth = await readHistory(redis, channels);
      check = checkSequences(fleet, truth);
      resumedWrong = resumed(truth);
    }
    const recoveryFailed = [...fleet.clients, ...after.clients].filter((c) => c.recoveryFailed.length > 0).length;
    const reconnected = fleet.clients.filter((c) => c.closes.length > 0).length;
    report("redis-aof-restart", {
      sockets: SOCKETS,
      outageMs: restartedAt - t0,
      writesAgainMs,
      socketsLiveMs,
      accepted: accepted.length,
      failedCalls: failures.length,
      failureCodes: [...new Set(failures.map((f) => f.code))],
      lostOrders,
      recoveryFailed,
      reconnected,
      resumedWithOffsets: after.clients.length,
      resumedWrong,
      ...check,
    });
    const services = [cluster.api, ...cluster.processors, ...cluster.edges.map((e) => e.proc)];
    expect(services.map((p) => p?.proc.exitCode ?? null)).toEqual(services.map(() => null)); // none restarted
    expect(failures.filter((f) => f.code !== 14 && f.code !== 4)).toEqual([]);
    expect(lostOrders).toBe(0);
    expect(recoveryFailed).toBe(0);
    expect(resumedWrong).toEqual([]);
    expect(check.examples).toEqual([]);
    expect(check.mismatched).toBe(0);
    expect(check.eventsDelivered).toBeGreaterThan(0);
  }, 60_000);
});
