import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { ClientFleet, type FleetClientSpec } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { caughtUp, checkSequences, readHistory } from "./history-truth.js";
import { OrderFlow } from "./order-flow.js";

const SOCKETS = scaled(2000, 20);
const ADMINS = scaled(40, 2);
const USERS = scaled(200, 4);
const RATE_PER_S = 500;

let cluster: LocalCluster;
const fleet = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({ edges: 2, processors: 0, api: false, env: { HISTORY_SIZE: "1000000" } });
});

afterAll(async () => {
  fleet.close();
  await cluster?.stop();
});

describe("edge node SIGKILL under load", () => {
  it("every client moves to the other node and ends with the complete, ordered, duplicate-free sequence", async () => {
    const [a, b] = cluster.edges as [(typeof cluster.edges)[0], (typeof cluster.edges)[0]];
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
    const admin = signToken(cluster.jwtSecret, { sub: "ops", admin: true });
    const specs: FleetClientSpec[] = Array.from({ length: SOCKETS }, (_, i) => {
      const urls = i % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      if (i < ADMINS) return { urls, token: admin, channels: [i % 4 < 2 ? "orders.created" : "orders.status"] };
      const user = users[i % USERS] as string;
      return { urls, token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
    });
    const t0 = Date.now();
    await fleet.connect(specs);
    const connectMs = Date.now() - t0;

    const flow = new OrderFlow({ redisUrl: cluster.redis.url, ratePerS: RATE_PER_S, users, confirm: true });
    await flow.start();
    await waitUntil(() => flow.created >= RATE_PER_S * 2, "2 s of orders", 20_000);
    const killedAt = Date.now();
    await b.proc.stop("SIGKILL");
    const victims = fleet.clients.filter((c) => c.opens[0]?.url === b.url);
    await waitUntil(() => victims.every((c) => c.opens.length >= 2 && c.subscribedChannels.size > 0), "victims reopened", 30_000);
    await waitUntil(() => flow.created >= RATE_PER_S * 5, "3 more s of orders", 30_000);
    await flow.stop();

    const redis = cluster.redis.client();
    const truth = await readHistory(redis, fleet.channels());
    await waitUntil(() => caughtUp(fleet, truth), "every client caught up", 30_000, 100);
    await sleep(300); // a duplicate or a stray event would arrive now
    const check = checkSequences(fleet, truth);
    const reopenedOnSurvivor = victims.filter((c) => c.opens.slice(1).some((o) => o.url === a.url)).length;
    const lastReopen = Math.max(...victims.map((c) => (c.opens.at(-1)?.at ?? 0) - killedAt));
    const recoveryFailed = fleet.clients.filter((c) => c.recoveryFailed.length > 0).length;
    report("edge-kill", {
      sockets: SOCKETS,
      admins: ADMINS,
      users: USERS,
      connectMs,
      orders: flow.created,
      flowFailures: flow.failures,
      victims: victims.length,
      reopenedOnSurvivor,
      lastReopenMsAfterKill: lastReopen,
      recoveryFailed,
      ...check,
    });
    expect(victims.length).toBeGreaterThan(SOCKETS / 4);
    expect(reopenedOnSurvivor).toBe(victims.length);
    expect(flow.failures).toBe(0);
    expect(recoveryFailed).toBe(0);
    expect(check.examples).toEqual([]);
    expect(check.mismatched).toBe(0);
    expect(check.eventsDelivered).toBe(check.eventsExpected);
  }, 150_000);

  it("a channel that had no event yet when the client subscribed still resumes across the kill", async () => {
    const victim = await cluster.addEdge();
    const survivor = cluster.edges[0] as (typeof cluster.edges)[0];
    // random 0.999: the reconnect waits ~1 s, a window in which the channel gets its first events.
    const quiet = new ClientFleet({ minReconnectDelayMs: 1000, maxReconnectDelayMs: 2000, random: () => 0.999 });
    const channels = ["orders.user.newcomer"];
    await quiet.connect([{ urls: [victim.url, survivor.url], token: signToken(cluster.jwtSecret, { sub: "newcomer" }), channels }]);
    const c = quiet.clients[0] as (typeof quiet.clients)[0];
    await victim.proc.stop("SIGKILL");
    await waitUntil(() => c.closes.length > 0, "close after SIGKILL");
    const flow = new OrderFlow({ redisUrl: cluster.redis.url, ratePerS: 50, users: ["newcomer"] });
    await flow.start();
    await waitUntil(() => flow.created >= 3, "3 orders");
    const whileDown = c.opens.length === 1 ? flow.created : 0;
    await waitUntil(() => c.opens.length >= 2, "reopen", 10_000);
    await waitUntil(() => flow.created >= 6, "3 more orders");
    await flow.stop();
    const truth = await readHistory(cluster.redis.client(), channels);
    await waitUntil(() => caughtUp(quiet, truth), "caught up", 5_000).catch(() => undefined);
    const check = checkSequences(quiet, truth);
    quiet.close();
    report("edge-kill/empty-channel", { publishedWhileDisconnected: whileDown, recoveryFailed: c.recoveryFailed, ...check });
    expect(whileDown).toBeGreaterThan(0);
    expect(check.examples).toEqual([]);
    expect(c.recoveryFailed).toEqual([]);
  }, 60_000);
});
