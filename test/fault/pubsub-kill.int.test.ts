import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Partitioning, channelHistoryLength } from "@orderstream/bus";
import type { Redis } from "ioredis";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { ClientFleet, type FleetClientSpec } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { caughtUp, checkSequences, readHistory } from "./history-truth.js";
import { OrderFlow } from "./order-flow.js";

const SOCKETS = scaled(400, 10);
const USERS = scaled(50, 2);
const KILLS = 3;
const RATE_PER_S = 500;

let cluster: LocalCluster;
let redis: Redis;
const fleet = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({ edges: 2, processors: 0, api: false, env: { HISTORY_SIZE: "1000000" } });
  redis = cluster.redis.client();
});

afterAll(async () => {
  fleet.close();
  await cluster?.stop();
});

/** The id of a node's subscriber connection (named `edge:<nodeId>:sub`), once it is subscribed. */
async function subscriberId(nodeId: string): Promise<string | undefined> {
  const list = (await redis.call("CLIENT", "LIST", "TYPE", "pubsub")) as string;
  for (const line of list.split("\n")) {
    if (!line.includes(` name=edge:${nodeId}:sub `)) continue;
    const sub = Number(/ sub=(\d+)/.exec(line)?.[1] ?? 0);
    if (sub > 0) return /^id=(\d+)/.exec(line)?.[1];
  }
  return undefined;
}

describe("an edge node's Redis subscriber connection killed while events flow", () => {
  it("clients stay connected and see every event once, in order (gap repair from history)", async () => {
    const [a, b] = cluster.edges as [(typeof cluster.edges)[0], (typeof cluster.edges)[0]];
    const admin = signToken(cluster.jwtSecret, { sub: "ops", admin: true });
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
    const specs: FleetClientSpec[] = Array.from({ length: SOCKETS }, (_, i) => {
      const urls = [i % 2 === 0 ? a.url : b.url];
      if (i < 20) return { urls, token: admin, channels: ["orders.created", "orders.status"] };
      const user = users[i % USERS] as string;
      return { urls, token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
    });
    await fleet.connect(specs);

    const flow = new OrderFlow({ redisUrl: cluster.redis.url, ratePerS: RATE_PER_S, users, confirm: true });
    await flow.start();
    const victimNode = `edge-${b.port}`;
    const kills: { killedId: string; newId: string; downMs: number; eventsWhileDown: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      await sleep(700);
      const id = (await waitUntil(() => subscriberId(victimNode), "victim subscriber connection")) as string;
      const before = await channelHistoryLength(redis, "orders.created", new Partitioning());
      const t = Date.now();
      await redis.call("CLIENT", "KILL", "ID", id);
      const newId = (await waitUntil(async () => {
        const cur = await subscriberId(victimNode);
        return cur !== undefined && cur !== id ? cur : undefined;
      }, "subscriber reconnected", 10_000, 5)) as string;
      const after = await channelHistoryLength(redis, "orders.created", new Partitioning());
      kills.push({ killedId: id, newId, downMs: Date.now() - t, eventsWhileDown: after - before });
    }
    await sleep(700);
    await flow.stop();

    const truth = await readHistory(redis, fleet.channels());
    await waitUntil(() => caughtUp(fleet, truth), "every client caught up", 30_000, 100);
    await sleep(300);
    const check = checkSequences(fleet, truth);
    const reconnected = fleet.clients.filter((c) => c.opens.length !== 1 || c.closes.length > 0).length;
    const recoveryFailed = fleet.clients.filter((c) => c.recoveryFailed.length > 0).length;
    report("pubsub-kill", { sockets: SOCKETS, orders: flow.created, kills, reconnected, recoveryFailed, ...check });
    expect(kills.reduce((n, k) => n + k.eventsWhileDown, 0)).toBeGreaterThan(0);
    expect(reconnected).toBe(0);
    expect(recoveryFailed).toBe(0);
    expect(check.examples).toEqual([]);
    expect(check.mismatched).toBe(0);
  }, 120_000);
});
