import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { OrderStore } from "@orderstream/bus";
import { type LocalCluster, type SentinelFailover, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { type OrderServiceClient, OrderStatus } from "@orderstream/proto";
import { ClientFleet } from "./client-fleet.js";
import { failoverCheck, survivorsDelivered } from "./failover-check.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { type Accepted, OrderCallers, twoEdgeFleet, waitSocketsLive } from "./failover-flow.js";
import { orderClient } from "./grpc-orders.js";
import { checkSequences, readHistory } from "./history-truth.js";

// The whole order path (order-api, a processor, two edges) on Redis Sentinel, orders flowing over
// gRPC and SDK sockets subscribed, when Sentinel fails the primary over: no service restarts,
// every order accepted after the switch completes, and no socket has a silent gap.
const SOCKETS = scaled(40, 10);
const USERS = Array.from({ length: scaled(10, 3) }, (_, i) => `su${i}`);
const CONCURRENCY = 8;

describe.each([
  { wait: false, name: "asynchronous replication" },
  { wait: true, name: "REDIS_WAIT_REPLICAS=1" },
])("SENTINEL FAILOVER under a flow of orders ($name)", ({ wait }) => {
  let cluster: LocalCluster;
  let redis: Redis;
  let grpc: OrderServiceClient;
  const fleet = new ClientFleet();

  beforeAll(async () => {
    cluster = await startLocalCluster({
      redis: "sentinel",
      edges: 2,
      processors: 1,
      env: { HISTORY_SIZE: "1000000", ...(wait ? { REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "500" } : {}) },
      processorEnv: { SHIP_DELAY_MS: "1", DELIVER_DELAY_MS: "1", DUE_SWEEP_INTERVAL_MS: "200", DUE_GRACE_MS: "1000" },
    });
    redis = cluster.redisClient() as Redis;
    grpc = orderClient(cluster.apiPort);
  }, 60_000);

  afterAll(async () => {
    fleet.close();
    grpc?.close();
    await cluster?.stop();
  });

  it(`every order accepted after the switch is DELIVERED; every socket is complete, ordered and duplicate-free or told recovered:false${wait ? "; no acknowledged order lost" : ""}`, async () => {
    await fleet.connect(twoEdgeFleet(cluster, SOCKETS, USERS));

    // CONCURRENCY callers create orders one after the other; failures (UNAVAILABLE) are counted.
    const orders = new OrderCallers(grpc, USERS, CONCURRENCY);
    const { accepted, failures } = orders;
    await waitUntil(() => accepted.length >= 200, "200 orders before the failover", 30_000);

    const t0 = Date.now();
    const rs = cluster.redisSentinel as NonNullable<LocalCluster["redisSentinel"]>;
    const sw: SentinelFailover = await rs.failover();
    // The switch is complete once no service is connected to the old primary any more (it takes
    // writes until then, and Sentinel demotes it only seconds later: those may be lost).
    const old = rs.nodeClient(sw.from);
    await waitUntil(
      async () => !/ name=(order-api|processor|edge)/.test(String(await old.call("CLIENT", "LIST"))),
      "every service off the old primary",
      20_000,
      20,
    );
    const switchedAt = Date.now();
    const firstAfter = await orders.firstAcceptedAfter(switchedAt, "an order accepted after the switch", 20_000);
    const writesAgainMs = firstAfter - t0;
    // Every socket is live again once it has received an event of an order accepted after the switch.
    await waitSocketsLive(fleet, orders, switchedAt, "every socket receives events of orders accepted after the switch");
    const socketsLiveMs = Date.now() - t0;
    await sleep(1500);
    await orders.stop();

    // Every order accepted after the switch completes its lifecycle.
    const store = new OrderStore(redis);
    const late = accepted.filter((o) => o.at > switchedAt);
    const statuses = async (list: Accepted[]): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const o of await Promise.all(list.map((x) => store.get(x.id)))) {
        const k = o === undefined ? "missing" : OrderStatus[o.status];
        out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    };
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
    // Orders acknowledged before the switch but lost with the old primary (asynchronous replication).
    const early = accepted.filter((o) => o.at <= switchedAt);
    const earlyStored = await Promise.all(early.map((o) => store.get(o.id)));
    const lostOrders = earlyStored.filter((o) => o === undefined).length;
    const earlyStatuses = await statuses(early);
    // Every order acknowledged before the switch that survived it reaches DELIVERED.
    const survivors = await survivorsDelivered(() => statuses(early));
    // Sockets against the channels' histories on the new primary. The last frames may be on their
    // way: compare again, with the history read again, until it holds or 20 s have passed.
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
    const recoveryFailed = fleet.clients.filter((c) => c.recoveryFailed.length > 0).length;
    const reconnected = fleet.clients.filter((c) => c.closes.length > 0).length;
    report(`sentinel-failover${wait ? "/wait" : ""}`, {
      sockets: SOCKETS,
      failover: sw,
      writesAgainMs,
      socketsLiveMs,
      accepted: accepted.length,
      acceptedAfterSwitch: late.length,
      failedCalls: failures.length,
      failureCodes: [...new Set(failures.map((f) => f.code))],
      lostOrdersAcceptedBeforeSwitch: lostOrders,
      acceptedBeforeSwitch: earlyStatuses,
      acceptedBeforeSwitchAtEnd: survivors.statuses,
      eventsOfLostOrders,
      recoveryFailed,
      reconnected,
      mismatched: check.mismatched,
      silent,
      brokenAfterRecovery,
      // Known open point: an all-orders channel's partitions move to new epochs one by one, and a
      // client told recovered:false has been seen to miss one new-epoch event of an order there.
      allOrdersAfterRecovery,
    });
    const services = [cluster.api, ...cluster.processors, ...cluster.edges.map((e) => e.proc)];
    expect(services.map((p) => p?.proc.exitCode ?? null)).toEqual(services.map(() => null)); // none restarted
    expect(late.length).toBeGreaterThan(0);
    // Any failed call answered UNAVAILABLE (14) or ran into its deadline (4), never anything else.
    expect(failures.filter((f) => f.code !== 14 && f.code !== 4)).toEqual([]);
    expect(silent).toEqual([]);
    expect(brokenAfterRecovery).toEqual([]);
    if (wait) expect(lostOrders).toBe(0);
    expect(survivors.stuck).toBe(0);
  }, 120_000);
});
