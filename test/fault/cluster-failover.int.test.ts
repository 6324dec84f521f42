import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cluster } from "ioredis";
import { OrderStore } from "@orderstream/bus";
import { type LocalCluster, type TestRedisCluster, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { type OrderServiceClient, OrderStatus } from "@orderstream/proto";
import { ClientFleet } from "./client-fleet.js";
import { failoverCheck, survivorsDelivered } from "./failover-check.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { type Accepted, OrderCallers, twoEdgeFleet, waitSocketsLive } from "./failover-flow.js";
import { orderClient } from "./grpc-orders.js";
import { checkSequences, readHistory } from "./history-truth.js";

// The whole order path (order-api, a processor, two edges) on a 3-master Redis Cluster with a
// replica each, orders flowing over gRPC and SDK sockets subscribed, when one master is SIGKILLed
// and its replica promoted: no service restarts, every order accepted after the switch
// completes, and no socket has a silent gap.
const SOCKETS = scaled(40, 10);
const USERS = Array.from({ length: scaled(10, 3) }, (_, i) => `cf${i}`);
const CONCURRENCY = 8;

let cluster: LocalCluster;
let redis: Cluster;
let grpc: OrderServiceClient;
const fleet = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({
    redis: "cluster",
    edges: 2,
    processors: 1,
    env: { HISTORY_SIZE: "1000000" },
    // Jobs whose step failed while their master was down wait for BullMQ's stalled check: short here.
    processorEnv: {
      SHIP_DELAY_MS: "1",
      DELIVER_DELAY_MS: "1",
      DUE_SWEEP_INTERVAL_MS: "200",
      DUE_GRACE_MS: "1000",
      JOB_LOCK_MS: "2000",
      STALLED_INTERVAL_MS: "1000",
    },
  });
  redis = cluster.redisClient() as Cluster;
  grpc = orderClient(cluster.apiPort);
}, 90_000);

afterAll(async () => {
  fleet.close();
  grpc?.close();
  await cluster?.stop();
});

describe("a Redis Cluster master SIGKILLed under a flow of orders", () => {
  it("its replica takes over; every order accepted after the switch is DELIVERED; every socket is complete, ordered and duplicate-free or told recovered:false", async () => {
    const rc = cluster.redisCluster as TestRedisCluster;
    await fleet.connect(twoEdgeFleet(cluster, SOCKETS, USERS));

    // CONCURRENCY callers create orders one after the other; failures (UNAVAILABLE) are counted.
    const orders = new OrderCallers(grpc, USERS, CONCURRENCY);
    const { accepted, failures } = orders;
    await waitUntil(() => accepted.length >= 200, "200 orders before the failover", 30_000);

    // The master of slot 0 dies; its replica (the node replicating it) must take its slots over.
    const before = await rc.masters();
    const victim = (before[0] as { port: number }).port;
    const t0 = Date.now();
    await rc.kill(victim, "SIGKILL");
    const promoted = (await waitUntil(
      async () => {
        const now = await rc.masters().catch(() => []);
        return now.length === before.length && !now.some((m) => m.port === victim) ? now : undefined;
      },
      "a replica promoted in place of the killed master",
      30_000,
      50,
    )) as Awaited<ReturnType<TestRedisCluster["masters"]>>;
    const switchedAt = Date.now();
    const newMaster = promoted.find((m) => !before.some((x) => x.port === m.port))?.port;
    const firstAfter = await orders.firstAcceptedAfter(switchedAt, "an order accepted after the switch", 30_000);
    // Every socket is live again once it has received an event of an order accepted after the switch.
    await waitSocketsLive(fleet, orders, switchedAt, "every socket receives events of orders accepted after the switch");
    const socketsLiveMs = Date.now() - t0;
    await sleep(1500);
    await orders.stop();

    const store = new OrderStore(redis);
    const statuses = async (list: Accepted[]): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const o of await Promise.all(list.map((x) => store.get(x.id)))) {
        const k = o === undefined ? "missing" : OrderStatus[o.status];
        out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    };
    const late = accepted.filter((o) => o.at > switchedAt);
    await waitUntil(
      async () => {
        const got = await Promise.all(late.map((o) => store.get(o.id)));
        return got.every((o) => o?.status === OrderStatus.DELIVERED);
      },
      "orders accepted after the switch DELIVERED",
      30_000,
      200,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}: ${JSON.stringify(await statuses(late))}\nprocessor:\n${cluster.processors[0]?.output().slice(-3000)}`,
      );
    });
    const early = accepted.filter((o) => o.at <= switchedAt);
    const lostOrders = (await Promise.all(early.map((o) => store.get(o.id)))).filter((o) => o === undefined).length;
    const earlyStatuses = await statuses(early);
    // Failed calls after the kill: the last one says when writes succeeded again for good.
    const lastFailure = failures.filter((f) => f.at >= t0).pop()?.at;

    const stored = new Set(
      (await Promise.all(accepted.map(async (o) => ((await store.get(o.id)) ? o.id : undefined)))).filter((id) => id !== undefined),
    );
    const compare = async () => {
      const truth = await readHistory(redis, fleet.channels());
      return { truth, ...failoverCheck(fleet, truth, stored) };
    };
    let result = await compare();
    for (
      const deadline = Date.now() + 20_000;
      (result.silent.length > 0 || result.brokenAfterRecovery.length > 0) && Date.now() < deadline;
    ) {
      await sleep(500);
      result = await compare();
    }
    const { silent, brokenAfterRecovery, allOrdersAfterRecovery, eventsOfLostOrders } = result;
    const check = checkSequences(fleet, result.truth);
    // Every order acknowledged before the switch that survived it reaches DELIVERED.
    const survivors = await survivorsDelivered(() => statuses(early));
    report("cluster-failover", {
      sockets: SOCKETS,
      killed: victim,
      promoted: newMaster,
      promotedMs: switchedAt - t0,
      // From the kill: the first order accepted after the promotion, and the last failed call.
      writesAgainMs: firstAfter - t0,
      lastFailureMs: lastFailure === undefined ? 0 : lastFailure - t0,
      socketsLiveMs,
      accepted: accepted.length,
      acceptedAfterSwitch: late.length,
      failedCalls: failures.length,
      failureCodes: [...new Set(failures.map((f) => f.code))],
      lostOrdersAcceptedBeforeSwitch: lostOrders,
      acceptedBeforeSwitch: earlyStatuses,
      acceptedBeforeSwitchAtEnd: survivors.statuses,
      eventsOfLostOrders,
      recoveryFailed: fleet.clients.filter((c) => c.recoveryFailed.length > 0).length,
      reconnected: fleet.clients.filter((c) => c.closes.length > 0).length,
      mismatched: check.mismatched,
      silent,
      brokenAfterRecovery,
      allOrdersAfterRecovery,
    });
    const services = [cluster.api, ...cluster.processors, ...cluster.edges.map((e) => e.proc)];
    expect(services.map((p) => p?.proc.exitCode ?? null)).toEqual(services.map(() => null)); // none restarted
    expect(newMaster).toBeDefined();
    expect(late.length).toBeGreaterThan(0);
    expect(failures.filter((f) => f.code !== 14 && f.code !== 4)).toEqual([]);
    expect(silent).toEqual([]);
    expect(brokenAfterRecovery).toEqual([]);
    expect(survivors.stuck).toBe(0);
  }, 120_000);
});
