#!/usr/bin/env node
// bench:edge — the edge node against the minimal uWS relay (bench/minimal-relay.mjs), same
// workload, server pinned to core 0 (taskset -c 0), clients on core 1:
//   fan-out: BENCH_SOCKETS (10,000) sockets on orders.created, the publish rate raised in steps
//     until any loss or p99 > 1 s; max deliveries/s (p99 <= 100 ms, and with no loss at any p99)
//     and p50/p99 publish-to-socket latency per step;
//   idle memory: BENCH_IDLE_SOCKETS sockets from several client processes and source addresses
//     127.0.0.x, server RSS growth per socket, server CPU ms per 1,000 accepted+subscribed sockets
//     and the connect rate (first connect to the last `subscribed`); opened in two waves
//     (BENCH_IDLE_WARMUP, a quarter, then the rest), each wave's figures kept in the JSON.
// BENCH_SERVER_PROCS (1) server processes on one port: EDGE_WORKERS for the edge, that many relay
// processes sharing the port (SO_REUSEPORT) for the relay; RSS and CPU are summed over them.
// BENCH_TOKENS=n: the idle sockets authenticate with one of n tokens per client process (the
// relay ignores them), 0 (default) anonymous.
// BENCH_EDGE_NODE_OPTIONS: NODE_OPTIONS for the edge only (e.g. --max-semi-space-size=2).
// BENCH_PHASES (fanout,idle) picks the phases, e.g. BENCH_PHASES=idle BENCH_IDLE_SOCKETS=60000
// BENCH_SERVER_PROCS=4 for the issue's "bytes per idle subscribed socket at 60,000 sockets over 4
// processes".
// Prints a table and writes bench/results/edge-*.json.
import { join } from "node:path";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import { ROOT, printTable, sleep, writeResult } from "./bench-support.mjs";
import { groupCpuMs, groupRssBytes, rampUp, startClients, startPinned, startPinnedGroup, stopClients } from "./fanout-harness.mjs";

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
// One process may hold at most 20,000 descriptors here (hard limit), so one server process holds
// at most ~19,000 sockets; the 50,000 needs a machine with a higher `ulimit -n`.
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 19_000);
const STEP_S = Number(process.env.BENCH_STEP_S ?? 4);
const RATES = (process.env.BENCH_RATES ?? "5,10,20,30,40,60,80,100,130,160,200").split(",").map(Number);
const CLIENT = join(ROOT, "bench/fanout-client.mjs");
const SERVER_PROCS = Number(process.env.BENCH_SERVER_PROCS ?? 1);
const PHASES = (process.env.BENCH_PHASES ?? "fanout,idle").split(",");
const IDLE_WARMUP = Number(process.env.BENCH_IDLE_WARMUP ?? Math.floor(IDLE_SOCKETS / 4));
/** Idle sockets bring `?token=` one of this many HS256 tokens per client process (0: anonymous). */
const IDLE_TOKENS = Number(process.env.BENCH_TOKENS ?? 0);
const JWT_SECRET = "bench";
/** Sockets per idle client process (each is under the 20,000 descriptor limit). */
const IDLE_PER_CLIENT = 15_000;

const TARGETS = {
  edge: (port, redisUrl) => [serviceEntry("edge"), {
    REDIS_URL: redisUrl, EDGE_HOST: "127.0.0.1", EDGE_PORT: String(port), AUTH_JWT_SECRET: JWT_SECRET,
    ANONYMOUS_ALL_ORDERS: "true", MAX_CONNECTIONS: "200000", LOG_LEVEL: "info", ORDER_API_URL: "127.0.0.1:1",
    RATE_LIMIT_PER_S: "1000", RATE_LIMIT_BURST: "1000", EDGE_WORKERS: String(SERVER_PROCS),
    ...(process.env.BENCH_EDGE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_EDGE_NODE_OPTIONS } : {}),
  }],
  relay: (port, redisUrl) => [join(ROOT, "bench/minimal-relay.mjs"), { REDIS_URL: redisUrl, PORT: String(port) }],
};

const startServer = (name, port, redisUrl) =>
  name === "relay" && SERVER_PROCS > 1
    ? startPinnedGroup(name, ...TARGETS[name](port, redisUrl), SERVER_PROCS)
    : startPinned(name, ...TARGETS[name](port, redisUrl));

async function fanout(name, server, port, store) {
  const clients = startClients(CLIENT, `ws://127.0.0.1:${port}/ws`, SOCKETS, "orders.created");
  const ready = await Promise.all(clients.map((c) => c.ready));
  const subscribed = ready.reduce((a, r) => a + r.subscribed, 0);
  try {
    return { subscribed, ...(await rampUp(name, { clients, subscribed, store, serverPids: server.pids }, RATES, STEP_S)) };
  } finally {
    await stopClients(clients);
  }
}

/** One wave of idle sockets on top of what is open: RSS growth, server CPU and time, per socket. */
async function idleWave(url, pids, count, firstAddr) {
  const before = groupRssBytes(pids);
  const cpu0 = groupCpuMs(pids);
  const t0 = performance.now();
  const extraArgs = IDLE_TOKENS > 0 ? [`tokens=${JWT_SECRET}:${IDLE_TOKENS}`] : [];
  const clients = startClients(CLIENT, url, count, "orders.status", { perClient: IDLE_PER_CLIENT, firstAddr, addrsPerClient: 8, extraArgs });
  const ready = await Promise.all(clients.map((c) => c.ready));
  const connectS = (performance.now() - t0) / 1000;
  const cpuMs = groupCpuMs(pids) - cpu0;
  await sleep(2000);
  const after = groupRssBytes(pids);
  const open = ready.reduce((a, r) => a + r.open, 0);
  const n = Math.max(1, open);
  const figures = {
    sockets: open, subscribed: ready.reduce((a, r) => a + r.subscribed, 0), rssBeforeBytes: before, rssAfterBytes: after,
    bytesPerSocket: Math.round((after - before) / n), connectS: +connectS.toFixed(2), connectsPerS: Math.round(open / connectS),
    serverCpuMs: cpuMs, cpuMsPer1kSockets: +((cpuMs * 1000) / n).toFixed(1),
  };
  return { clients, figures, nextAddr: firstAddr + 8 * clients.length };
}

/**
 * BENCH_IDLE_SOCKETS idle subscribed sockets in two waves, a first one (BENCH_IDLE_WARMUP, a
 * quarter by default) then the rest. The figures are over all sockets (RSS from before the first
 * wave to after the second); each wave's are kept beside: the second wave's leave out start-up
 * garbage and JIT, but swing with the moment V8 happens to collect.
 */
async function idleMemory(name, redisUrl) {
  const port = await freePort();
  const server = startServer(name, port, redisUrl);
  const clients = [];
  try {
    await server.ready;
    await sleep(500);
    const pids = server.pids();
    const url = `ws://127.0.0.1:${port}/ws`;
    const warm = await idleWave(url, pids, IDLE_WARMUP, 1);
    clients.push(...warm.clients);
    const main = await idleWave(url, pids, IDLE_SOCKETS - IDLE_WARMUP, warm.nextAddr);
    clients.push(...main.clients);
    const w = warm.figures;
    const m = main.figures;
    const sockets = w.sockets + m.sockets;
    const connectS = w.connectS + m.connectS;
    const cpuMs = w.serverCpuMs + m.serverCpuMs;
    return {
      processes: pids.length, sockets, subscribed: w.subscribed + m.subscribed, rssBeforeBytes: w.rssBeforeBytes, rssAfterBytes: m.rssAfterBytes,
      bytesPerSocket: Math.round((m.rssAfterBytes - w.rssBeforeBytes) / Math.max(1, sockets)),
      connectS: +connectS.toFixed(2), connectsPerS: Math.round(sockets / connectS), serverCpuMs: cpuMs,
      cpuMsPer1kSockets: +((cpuMs * 1000) / Math.max(1, sockets)).toFixed(1), warmup: w, afterWarmup: m,
    };
  } finally {
    await stopClients(clients);
    await server.stop();
  }
}

async function measure(name) {
  const redis = await startRedis();
  const cmd = createRedis(redis.url, { role: "command", name: "bench" });
  await waitReady(cmd);
  const store = new OrderStore(cmd);
  const port = await freePort();
  const server = startServer(name, port, redis.url);
  try {
    await server.ready;
    /** @type {{ steps: any[], maxDeliveriesPerS: number, maxNoLossDeliveriesPerS: number, noLoss?: { p99Ms: number } }} */
    let fan = { steps: [], maxDeliveriesPerS: 0, maxNoLossDeliveriesPerS: 0 };
    if (PHASES.includes("fanout")) {
      console.log(`${name}: fan-out to ${SOCKETS} sockets`);
      fan = await fanout(name, server, port, store);
    }
    await server.stop();
    if (!PHASES.includes("idle")) return { fanout: fan };
    console.log(`${name}: idle memory with ${IDLE_SOCKETS} sockets over ${SERVER_PROCS} server process(es)`);
    const idle = await idleMemory(name, redis.url);
    console.log(`  ${name}: ${JSON.stringify(idle)}`);
    return { fanout: fan, idle };
  } finally {
    await server.stop();
    await closeRedis(cmd);
    await redis.stop();
  }
}

const edge = await measure("edge");
const relay = await measure("relay");
const ratio = relay.fanout.maxNoLossDeliveriesPerS ? edge.fanout.maxNoLossDeliveriesPerS / relay.fanout.maxNoLossDeliveriesPerS : 0;
const idleE = /** @type {Record<string, any>} */ (edge.idle ?? {});
const idleR = /** @type {Record<string, any>} */ (relay.idle ?? {});
const memRatio = idleR.bytesPerSocket ? idleE.bytesPerSocket / idleR.bytesPerSocket : 0;
const cpuRatio = idleR.cpuMsPer1kSockets ? idleE.cpuMsPer1kSockets / idleR.cpuMsPer1kSockets : 0;
const at200k = edge.fanout.steps.find((s) => s.deliveriesPerS >= 180_000 && s.lost === 0);
const rows = [
  { metric: "edge max deliveries/s (p99<=100ms, no loss)", value: edge.fanout.maxDeliveriesPerS },
  { metric: "relay max deliveries/s (p99<=100ms, no loss)", value: relay.fanout.maxDeliveriesPerS },
  { metric: "edge max lossless deliveries/s (p99 ms)", value: `${edge.fanout.maxNoLossDeliveriesPerS} (${edge.fanout.noLoss?.p99Ms})` },
  { metric: "relay max lossless deliveries/s (p99 ms)", value: `${relay.fanout.maxNoLossDeliveriesPerS} (${relay.fanout.noLoss?.p99Ms})` },
  { metric: "edge / relay lossless deliveries", value: ratio.toFixed(2), goal: ">= 0.90", ok: ratio >= 0.9 },
  { metric: "edge p99 ms at ~200k deliveries/s", value: at200k ? at200k.p99Ms : "n/a", goal: "<= 50", ok: at200k ? at200k.p99Ms <= 50 : undefined },
].filter(() => PHASES.includes("fanout"));
if (PHASES.includes("idle")) rows.push(
  { metric: "edge bytes per idle socket", value: idleE.bytesPerSocket, goal: "<= 2000", ok: idleE.bytesPerSocket <= 2000 },
  { metric: "relay bytes per idle socket", value: idleR.bytesPerSocket },
  { metric: "edge / relay memory per socket", value: memRatio.toFixed(2) },
  { metric: "edge server cpu ms per 1,000 sockets", value: idleE.cpuMsPer1kSockets },
  { metric: "relay server cpu ms per 1,000 sockets", value: idleR.cpuMsPer1kSockets },
  { metric: "edge / relay cpu per socket", value: cpuRatio.toFixed(2), goal: "<= 1.5", ok: cpuRatio <= 1.5 },
  { metric: "connects/s (edge / relay)", value: `${idleE.connectsPerS} / ${idleR.connectsPerS}` },
  { metric: "after the first wave: bytes per socket (edge / relay)", value: `${idleE.afterWarmup?.bytesPerSocket} / ${idleR.afterWarmup?.bytesPerSocket}` },
  { metric: "after the first wave: cpu ms per 1,000 (edge / relay)", value: `${idleE.afterWarmup?.cpuMsPer1kSockets} / ${idleR.afterWarmup?.cpuMsPer1kSockets}` },
  { metric: "idle sockets open (edge / relay)", value: `${idleE.sockets} / ${idleR.sockets}` },
);
printTable(`bench:edge (server on core 0, ${SOCKETS} fan-out sockets, ${IDLE_SOCKETS} idle sockets over ${SERVER_PROCS} server process(es))`, rows);
console.log(`\nwrote ${writeResult("edge", { sockets: SOCKETS, idleSockets: IDLE_SOCKETS, serverProcs: SERVER_PROCS, phases: PHASES, stepS: STEP_S, edge, relay, ratio, memRatio, cpuRatio })}`);
