import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { ClientFleet, type FleetClientSpec } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { caughtUp, checkSequences, readHistory } from "./history-truth.js";
import { OrderFlow } from "./order-flow.js";

const SOCKETS = scaled(1000, 15);
const USERS = scaled(100, 3);
const ADMINS = scaled(20, 2);
const RATE_PER_S = 200;
const DRAIN_WINDOW_MS = 2000;

let cluster: LocalCluster;
const fleet = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({
    edges: 3,
    processors: 0,
    api: false,
    env: { HISTORY_SIZE: "1000000" },
    edgeEnv: { DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS) },
  });
});

afterAll(async () => {
  fleet.close();
  await cluster?.stop();
});

/** Peak and total of `open` events per wall-clock second after `since`. */
function reconnectRate(since: number): { reconnects: number; peakPerS: number } {
  const perSecond = new Map<number, number>();
  let reconnects = 0;
  for (const c of fleet.clients)
    for (const o of c.opens.slice(1)) {
      if (o.at < since) continue;
      reconnects++;
      const s = Math.floor(o.at / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
  return { reconnects, peakPerS: Math.max(0, ...perSecond.values()) };
}

describe("rolling restart of every edge node under a steady event flow", () => {
  it("loses no event and delivers none twice; reports the peak reconnect rate", async () => {
    const nodes = [...cluster.edges];
    const urls = nodes.map((n) => n.url);
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
    const admin = signToken(cluster.jwtSecret, { sub: "ops", admin: true });
    const specs: FleetClientSpec[] = Array.from({ length: SOCKETS }, (_, i) => {
      const own = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
      if (i < ADMINS) return { urls: own, token: admin, channels: [i % 2 === 0 ? "orders.created" : "orders.status"] };
      const user = users[i % USERS] as string;
      return { urls: own, token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
    });
    await fleet.connect(specs);
    const flow = new OrderFlow({ redisUrl: cluster.redis.url, ratePerS: RATE_PER_S, users, confirm: true });
    await flow.start();
    await sleep(500);

    const started = Date.now();
    const steps: { port: number; exitCode: number | null; stopMs: number; readyMs: number }[] = [];
    for (const node of nodes) {
      const t = Date.now();
      const exitCode = await node.proc.stop("SIGTERM", 20_000);
      const stopMs = Date.now() - t;
      const t2 = Date.now();
      await cluster.addEdge(node.port);
      steps.push({ port: node.port, exitCode, stopMs, readyMs: Date.now() - t2 });
    }
    const rollMs = Date.now() - started;
    await sleep(500);
    await flow.stop();

    const truth = await readHistory(cluster.redis.client(), fleet.channels());
    await waitUntil(() => caughtUp(fleet, truth), "every client caught up", 30_000, 100);
    await sleep(300);
    const check = checkSequences(fleet, truth);
    const rate = reconnectRate(started);
    const closeCodes: Record<number, number> = {};
    for (const c of fleet.clients) for (const cl of c.closes) closeCodes[cl.code] = (closeCodes[cl.code] ?? 0) + 1;
    const recoveryFailed = fleet.clients.filter((c) => c.recoveryFailed.length > 0).length;
    report("rolling-restart", {
      sockets: SOCKETS,
      drainWindowMs: DRAIN_WINDOW_MS,
      rollMs,
      steps,
      orders: flow.created,
      ...rate,
      closeCodes,
      recoveryFailed,
      ...check,
    });
    expect(steps.map((s) => s.exitCode)).toEqual([0, 0, 0]);
    expect(flow.failures).toBe(0);
    // Every socket was drained at least once (its node restarted under it).
    expect(fleet.clients.every((c) => c.closes.some((cl) => cl.code === 1001))).toBe(true);
    expect(recoveryFailed).toBe(0);
    expect(check.examples).toEqual([]);
    expect(check.mismatched).toBe(0);
    expect(check.eventsDelivered).toBe(check.eventsExpected);
  }, 150_000);
});
