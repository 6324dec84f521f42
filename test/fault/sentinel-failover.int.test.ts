import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { OrderStore, isFirehose } from "@orderstream/bus";
import { type LocalCluster, type SentinelFailover, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { type OrderServiceClient, OrderStatus } from "@orderstream/proto";
import { ClientFleet, type FleetClientSpec, type SeenEvent } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { createOrder, orderClient, orderRequest } from "./grpc-orders.js";
import { checkSequences, comparable, readHistory } from "./history-truth.js";

// The whole order path (order-api, a processor, two edges) on Redis Sentinel, orders flowing over
// gRPC and SDK sockets subscribed, when Sentinel fails the primary over: no service restarts,
// every order accepted after the switch completes, and no socket has a silent gap.
const SOCKETS = scaled(40, 10);
const USERS = Array.from({ length: scaled(10, 3) }, (_, i) => `su${i}`);
const CONCURRENCY = 8;

/**
 * Why what a client got does not end with the channel's new-epoch history, or undefined when it
 * does. An all-orders channel's partitions move to new epochs one by one: there each order's
 * events must end with its new-epoch events (its partition's), in order, once each.
 */
function newEpochTail(channel: string, got: readonly SeenEvent[], want: readonly SeenEvent[]): string | undefined {
  const key = (e: SeenEvent): string => `${e.type}:${e.status}`;
  if (!isFirehose(channel)) {
    const tail = got.slice(Math.max(0, got.length - want.length));
    const at = tail.findIndex((e, i) => e.offset !== want[i]?.offset);
    if (tail.length === want.length && at < 0) return undefined;
    const epoch = want[0]?.offset.split(":")[0];
    const mine = got.filter((e) => e.offset.split(":")[0] === epoch).map((e) => e.offset);
    const wanted = new Set(want.map((e) => e.offset));
    const missing = want.filter((e) => !mine.includes(e.offset)).map((e) => e.offset);
    const epochs = [...new Set(got.map((e) => e.offset.split(":")[0]))];
    const lastOld = got
      .map((e, i) => [e, i] as const)
      .filter(([e]) => e.offset.split(":")[0] !== epoch)
      .pop();
    return `got ${got.length} (${mine.length} of the new epoch, ${new Set(mine).size} distinct, ${mine.filter((o) => !wanted.has(o)).length} not in history: ${mine
      .filter((o) => !wanted.has(o))
      .slice(0, 3)
      .join(
        " ",
      )} (history ${want[0]?.offset}..${want[want.length - 1]?.offset}); epochs ${epochs.join(" ")}), new epoch ${want.length}, missing ${missing.slice(0, 5).join(" ")}; last old-epoch event at ${lastOld?.[1]}: ${lastOld?.[0].offset}; first new at ${got.findIndex((e) => e.offset.split(":")[0] === epoch)}`;
  }
  const byOrder = (list: readonly SeenEvent[]): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const e of list) m.set(e.orderId, [...(m.get(e.orderId) ?? []), key(e)]);
    return m;
  };
  const gotBy = byOrder(got);
  for (const [id, w] of byOrder(want)) {
    const g = gotBy.get(id) ?? [];
    const tail = g.slice(Math.max(0, g.length - w.length));
    if (tail.length !== w.length || tail.some((x, i) => x !== w[i])) return `order ${id}: got [${g.join(",")}], new epoch [${w.join(",")}]`;
  }
  return undefined;
}

interface Accepted {
  id: string;
  at: number;
}

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
      processorEnv: { SHIP_DELAY_MS: "1", DELIVER_DELAY_MS: "1", OUTBOX_SWEEP_INTERVAL_MS: "200", OUTBOX_STALE_MS: "1000" },
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
    const [a, b] = cluster.edges as [LocalCluster["edges"][0], LocalCluster["edges"][0]];
    const admin = signToken(cluster.jwtSecret, { sub: "ops", admin: true });
    const specs: FleetClientSpec[] = Array.from({ length: SOCKETS }, (_, i) => {
      const urls = i % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      if (i % 5 === 0) return { urls, token: admin, channels: ["orders.created", "orders.status"] };
      const user = USERS[i % USERS.length] as string;
      return { urls, token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
    });
    await fleet.connect(specs);

    // CONCURRENCY callers create orders one after the other; failures (UNAVAILABLE) are counted.
    const accepted: Accepted[] = [];
    const failures: { at: number; code: number | undefined }[] = [];
    let running = true;
    let n = 0;
    const callers = Array.from({ length: CONCURRENCY }, async () => {
      while (running) {
        const i = n++;
        try {
          const order = await createOrder(grpc, orderRequest(USERS[i % USERS.length] as string, i), 3000);
          accepted.push({ id: order.id, at: Date.now() });
        } catch (err) {
          failures.push({ at: Date.now(), code: (err as { code?: number }).code });
          await sleep(20);
        }
      }
    });
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
    const firstAfter = (await waitUntil(
      () => accepted.find((o) => o.at > switchedAt)?.at,
      "an order accepted after the switch",
      20_000,
      10,
    )) as number;
    const writesAgainMs = firstAfter - t0;
    // Every socket is live again once it has received an event of an order accepted after the switch.
    const afterSwitch = (): Set<string> => new Set(accepted.filter((o) => o.at > switchedAt).map((o) => o.id));
    await waitUntil(
      () => {
        const ids = afterSwitch();
        return fleet.clients.every((c) => c.channels.some((ch) => (c.events.get(ch) ?? []).some((e) => ids.has(e.orderId))));
      },
      "every socket receives events of orders accepted after the switch",
      30_000,
      25,
    );
    const socketsLiveMs = Date.now() - t0;
    await sleep(1500);
    running = false;
    await Promise.all(callers);

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
    // Orders acknowledged before the switch whose job went with the old primary stay where they were.
    const earlyStatuses = await statuses(early);
    // Sockets against the channels' histories on the new primary. The repair sweep may still be
    // completing stranded orders (after their lease) and the last frames may be on their way:
    // compare again, with the history read again, until it holds or 20 s have passed.
    const stored = new Set(
      (await Promise.all(accepted.map(async (o) => ((await store.get(o.id)) ? o.id : undefined)))).filter((id) => id !== undefined),
    );
    const compare = async () => {
      const truth = await readHistory(redis, fleet.channels());
      // A mismatch is a silent gap unless that socket was told recovered:false for the channel;
      // then what it got since must be the new epoch's history, complete, ordered, duplicate-free.
      const silent: string[] = [];
      const brokenAfterRecovery: string[] = [];
      // All-orders channels: reported, not asserted (see below).
      const firehoseAfterRecovery: string[] = [];
      let eventsOfLostOrders = 0;
      for (const c of fleet.clients) {
        const failed = new Set(c.recoveryFailed.flat());
        for (const ch of c.channels) {
          const wantEvents = truth.get(ch) ?? [];
          const gotEvents = c.events.get(ch) ?? [];
          eventsOfLostOrders += gotEvents.filter((e) => !stored.has(e.orderId)).length;
          if (!failed.has(ch)) {
            const want = comparable(ch, wantEvents);
            const got = comparable(ch, gotEvents);
            if ((got.length !== want.length || got.some((x, i) => x !== want[i])) && silent.length < 5) {
              silent.push(`client ${c.index} ${ch}: got ${gotEvents.length}, want ${wantEvents.length}, no recovered:false`);
            }
          } else {
            const why = newEpochTail(ch, gotEvents, wantEvents);
            const list = isFirehose(ch) ? firehoseAfterRecovery : brokenAfterRecovery;
            if (why !== undefined && list.length < 5)
              list.push(`client ${c.index} ${ch} (${c.recoveryFailed.length} recoveryFailed): ${why}`);
          }
        }
      }
      return { truth, silent, brokenAfterRecovery, firehoseAfterRecovery, eventsOfLostOrders };
    };
    let result = await compare();
    for (
      const deadline = Date.now() + 20_000;
      (result.silent.length > 0 || result.brokenAfterRecovery.length > 0) && Date.now() < deadline;
    ) {
      await sleep(500);
      result = await compare();
    }
    const { silent, brokenAfterRecovery, firehoseAfterRecovery, eventsOfLostOrders } = result;
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
      eventsOfLostOrders,
      recoveryFailed,
      reconnected,
      mismatched: check.mismatched,
      silent,
      brokenAfterRecovery,
      // Known open point: an all-orders channel's partitions move to new epochs one by one, and a
      // client told recovered:false has been seen to miss one new-epoch event of an order there.
      firehoseAfterRecovery,
    });
    const services = [cluster.api, ...cluster.processors, ...cluster.edges.map((e) => e.proc)];
    expect(services.map((p) => p?.proc.exitCode ?? null)).toEqual(services.map(() => null)); // none restarted
    expect(late.length).toBeGreaterThan(0);
    // Any failed call answered UNAVAILABLE (14) or ran into its deadline (4), never anything else.
    expect(failures.filter((f) => f.code !== 14 && f.code !== 4)).toEqual([]);
    expect(silent).toEqual([]);
    expect(brokenAfterRecovery).toEqual([]);
    if (wait) expect(lostOrders).toBe(0);
  }, 90_000);
});
