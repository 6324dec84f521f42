import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { ClientFleet, type FleetClientSpec } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { caughtUp, checkSequences, readHistory } from "./history-truth.js";
import { OrderFlow } from "./order-flow.js";

// EDGE_WORKERS=3: one edge port served by three processes (SO_REUSEPORT) under one supervisor.
const SOCKETS = scaled(90, 30);
const USERS = 15;
const RATE_PER_S = 200;

let cluster: LocalCluster;
const fleet = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({ edges: 0, processors: 0, api: false, env: { HISTORY_SIZE: "1000000" } });
});

afterAll(async () => {
  fleet.close();
  await cluster?.stop();
});

/** Open sockets per worker, from the group's /metrics (one `orderstream_edge_connections` series per worker). */
async function socketsPerWorker(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^orderstream_edge_connections\{node="([^"]+)"\} (\d+)/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

describe("EDGE_WORKERS=3 on one port", () => {
  it("spreads sockets over the workers, replaces a SIGKILLed worker, and its clients resume with nothing lost", async () => {
    const edge = await cluster.addEdge(undefined, { EDGE_WORKERS: "3", NODE_ID: "grp" });
    const pids = JSON.parse(/"pids":(\[[\d,]+\])[^\n]*"msg":"ready"/.exec(edge.proc.output())?.[1] ?? "[]") as number[];
    expect(pids).toHaveLength(3);
    const users = Array.from({ length: USERS }, (_, i) => `w${i}`);
    const specs: FleetClientSpec[] = Array.from({ length: SOCKETS }, (_, i) => {
      const user = users[i % USERS] as string;
      return { urls: [edge.url], token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
    });
    await fleet.connect(specs);
    const spread = await socketsPerWorker(edge.port);
    expect([...spread.keys()].sort()).toEqual(["grp-w0", "grp-w1", "grp-w2"]);
    expect([...spread.values()].reduce((a, b) => a + b, 0)).toBe(SOCKETS);
    expect([...spread.values()].filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect((await fetch(`http://127.0.0.1:${edge.port}/readyz`)).status).toBe(200);

    const flow = new OrderFlow({ redisUrl: cluster.redis.url, ratePerS: RATE_PER_S, users, confirm: true });
    await flow.start();
    await waitUntil(() => flow.created >= RATE_PER_S, "1 s of orders", 20_000);
    // The worker holding the most sockets dies.
    const [busiest] = [...spread].sort((a, b) => b[1] - a[1]);
    const index = Number((busiest?.[0] ?? "grp-w0").slice("grp-w".length));
    const victimPid = pids[index] as number;
    const closesBefore = fleet.clients.map((c) => c.closes.length);
    process.kill(victimPid, "SIGKILL");
    await waitUntil(() => /"worker died; restarting it"/.test(edge.proc.output()), "supervisor saw the death", 10_000);
    await waitUntil(() => (edge.proc.output().match(/"msg":"worker ready"/g) ?? []).length >= 4, "replacement worker ready", 20_000);
    const victims = fleet.clients.filter((c, i) => c.closes.length > (closesBefore[i] ?? 0));
    await waitUntil(() => victims.every((c) => c.subscribedChannels.size > 0 && c.opens.length >= 2), "victims reopened", 30_000);
    await waitUntil(() => flow.created >= RATE_PER_S * 3, "2 more s of orders", 30_000);
    await flow.stop();

    const truth = await readHistory(cluster.redis.client(), fleet.channels());
    await waitUntil(() => caughtUp(fleet, truth), "every client caught up", 30_000, 100);
    await sleep(300); // a duplicate or a stray event would arrive now
    const check = checkSequences(fleet, truth);
    const after = await socketsPerWorker(edge.port);
    report("edge-workers", {
      sockets: SOCKETS,
      spreadBefore: Object.fromEntries(spread),
      spreadAfter: Object.fromEntries(after),
      victims: victims.length,
      orders: flow.created,
      ...check,
    });
    expect(victims.length).toBe(busiest?.[1]);
    expect(flow.failures).toBe(0);
    expect(check.examples).toEqual([]);
    expect(check.mismatched).toBe(0);
    expect(check.eventsDelivered).toBe(check.eventsExpected);
    expect([...after.values()].reduce((a, b) => a + b, 0)).toBe(SOCKETS);
    expect(fleet.clients.filter((c) => c.recoveryFailed.length > 0)).toHaveLength(0);

    // SIGTERM: every worker drains (1001) and the group exits 0.
    expect(await edge.proc.stop("SIGTERM", 20_000)).toBe(0);
    expect(edge.proc.output()).toMatch(/"code":0,"msg":"exit"/);
  }, 120_000);
});
