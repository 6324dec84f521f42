#!/usr/bin/env node
// bench:peers — orderstream against what a user would pick instead, same workload, same machine:
//   edge      the orderstream edge (services/edge/dist/main.js)
//   relay     the minimal uWS relay ceiling (bench/minimal-relay.mjs)
//   ws-naive  `ws` + ioredis, per-socket ws.send loop (bench/peers/ws-naive-server.mjs)
//   socketio  Socket.IO 4.8 + @socket.io/redis-adapter (bench/peers/socketio-server.mjs)
// Each on its own fresh redis-server, server pinned to core 0, client processes to core 1:
//   fan-out: BENCH_SOCKETS (2,000) sockets, publish rate raised through BENCH_RATES until any loss
//     or p99 > 1 s; max deliveries/s = last step with p99 <= 100 ms and no loss → max deliveries/s (server and client-process CPU recorded per step);
//   fixed rate: BENCH_FIXED_RATE (25) events/s for BENCH_FIXED_S (10) s → p50/p99 and server CPU
//     ms per 100k deliveries (utime+stime from /proc/<pid>/stat);
//   idle: BENCH_IDLE_SOCKETS (10,000; keep it under `ulimit -n`) sockets on a fresh server → RSS growth per socket.
// BENCH_PEERS picks targets (default all). Prints one table, writes bench/results/peers-*.json.
import { join } from "node:path";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import { ROOT, machine, sleep, writeResult } from "./bench-support.mjs";
import { phase, rampUp, rssBytes, startClients, startPinned, stopClients } from "./fanout-harness.mjs";

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2_000);
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 10_000);
const STEP_S = Number(process.env.BENCH_STEP_S ?? 4);
const RATES = (process.env.BENCH_RATES ?? "10,25,50,75,100,125,150,200,250,300").split(",").map(Number);
const FIXED_RATE = Number(process.env.BENCH_FIXED_RATE ?? 25);
const FIXED_S = Number(process.env.BENCH_FIXED_S ?? 10);
const PEERS = (process.env.BENCH_PEERS ?? "edge,relay,ws-naive,socketio").split(",");

const RAW_CLIENT = join(ROOT, "bench/fanout-client.mjs");
const SIO_CLIENT = join(ROOT, "bench/peers/socketio-fanout-client.mjs");
const TARGETS = {
  edge: {
    entry: () => serviceEntry("edge"),
    env: (port, redisUrl) => ({
      REDIS_URL: redisUrl, EDGE_HOST: "127.0.0.1", EDGE_PORT: String(port), AUTH_JWT_SECRET: "bench",
      ANONYMOUS_ALL_ORDERS: "true", MAX_CONNECTIONS: "200000", LOG_LEVEL: "info", ORDER_API_URL: "127.0.0.1:1",
      RATE_LIMIT_PER_S: "1000", RATE_LIMIT_BURST: "1000",
    }),
    client: RAW_CLIENT, url: (port) => `ws://127.0.0.1:${port}/ws`,
  },
  relay: { entry: () => join(ROOT, "bench/minimal-relay.mjs"), env: (port, redisUrl) => ({ REDIS_URL: redisUrl, PORT: String(port) }), client: RAW_CLIENT, url: (port) => `ws://127.0.0.1:${port}/ws` },
  "ws-naive": { entry: () => join(ROOT, "bench/peers/ws-naive-server.mjs"), env: (port, redisUrl) => ({ REDIS_URL: redisUrl, PORT: String(port) }), client: RAW_CLIENT, url: (port) => `ws://127.0.0.1:${port}/ws` },
  socketio: { entry: () => join(ROOT, "bench/peers/socketio-server.mjs"), env: (port, redisUrl) => ({ REDIS_URL: redisUrl, PORT: String(port) }), client: SIO_CLIENT, url: (port) => `http://127.0.0.1:${port}` },
};

async function withServer(name, redisUrl, fn) {
  const t = TARGETS[name];
  const port = await freePort();
  const server = startPinned(name, t.entry(), t.env(port, redisUrl), "0");
  try {
    await server.ready;
    await sleep(500);
    return await fn(server, port);
  } finally {
    await server.stop();
  }
}

async function measure(name) {
  const t = TARGETS[name];
  const redis = await startRedis();
  const cmd = createRedis(redis.url, { role: "command", name: "bench" });
  await waitReady(cmd);
  const store = new OrderStore(cmd);
  try {
    console.log(`${name}: fan-out to ${SOCKETS} sockets`);
    const { fan, fixed } = await withServer(name, redis.url, async (server, port) => {
      const clients = startClients(t.client, t.url(port), SOCKETS, "orders.created");
      try {
        const ready = await Promise.all(clients.map((c) => c.ready));
        const subscribed = ready.reduce((a, r) => a + r.subscribed, 0);
        if (subscribed < SOCKETS) console.log(`  ${name}: only ${subscribed}/${SOCKETS} sockets subscribed`);
        const ctx = { clients, subscribed, store, serverPid: server.proc.pid };
        // The fixed-rate phase first: a ramp step that falls behind leaves a backlog behind it.
        const fixed = await phase({ ...ctx, rate: FIXED_RATE, seconds: FIXED_S, settleMs: 2000 });
        console.log(`  ${name} fixed ${FIXED_RATE} ev/s: p50 ${fixed.p50Ms} ms, p99 ${fixed.p99Ms} ms, lost ${fixed.lost}, ${fixed.serverCpuMsPer100k} server cpu ms / 100k deliveries`);
        const fan = { subscribed, ...(await rampUp(name, ctx, RATES, STEP_S)) };
        return { fan, fixed };
      } finally {
        await stopClients(clients);
      }
    });
    console.log(`${name}: idle memory with ${IDLE_SOCKETS} sockets`);
    const idle = await withServer(name, redis.url, async (server, port) => {
      const before = rssBytes(server.proc.pid);
      const clients = startClients(t.client, t.url(port), IDLE_SOCKETS, "orders.status");
      try {
        const ready = await Promise.all(clients.map((c) => c.ready));
        await sleep(2000);
        const after = rssBytes(server.proc.pid);
        const open = ready.reduce((a, r) => a + r.open, 0);
        return { sockets: open, rssBeforeBytes: before, rssAfterBytes: after, bytesPerSocket: Math.round((after - before) / Math.max(1, open)) };
      } finally {
        await stopClients(clients);
      }
    });
    return { fanout: fan, fixed, idle };
  } finally {
    await closeRedis(cmd);
    await redis.stop();
  }
}

const results = {};
for (const name of PEERS) results[name] = await measure(name);

/** @type {(a: number | undefined, b: number | undefined) => number | undefined} */
const ratio = (a, b) => (a !== undefined && b ? a / b : undefined);
const fmt = (x, d = 2) => (x === undefined ? "n/a" : x.toFixed(d));
const edge = results.edge;
const cols = ["peer", "max deliv/s", "no-loss deliv/s", "at ev/s", "p99@max", "srv cpu@max", "cli cpu@max", `p50/p99 ms @${FIXED_RATE}ev/s`, "cpu ms/100k", "B/idle socket"];
const rows = PEERS.map((n) => {
  const r = results[n];
  const b = r.fanout.best;
  return [n, r.fanout.maxDeliveriesPerS, r.fanout.maxNoLossDeliveriesPerS, r.fanout.atRate, b ? b.p99Ms : "-", b ? `${b.serverCpuPct}%` : "-", b ? `${b.clientCpuPct}%` : "-",
    `${r.fixed.p50Ms} / ${r.fixed.p99Ms}${r.fixed.lost ? ` (lost ${r.fixed.lost})` : ""}`, r.fixed.serverCpuMsPer100k, r.idle.bytesPerSocket];
});
const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => `| ${r.map((v, i) => String(v).padEnd(widths[i])).join(" | ")} |`;
console.log(`\nbench:peers (${SOCKETS} fan-out sockets, ${IDLE_SOCKETS} idle sockets, server core 0, clients core 1, ${JSON.stringify(machine())})`);
console.log(line(cols));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
const goals = [];
if (edge) {
  const d = (n) => ratio(edge.fanout.maxDeliveriesPerS, results[n]?.fanout.maxDeliveriesPerS);
  const m = ratio(edge.idle.bytesPerSocket, results.socketio?.idle.bytesPerSocket);
  goals.push({ goal: "edge >= 3x socketio deliveries/s", value: d("socketio"), ok: (d("socketio") ?? 0) >= 3 });
  goals.push({ goal: "edge >= 1.5x ws-naive deliveries/s", value: d("ws-naive"), ok: (d("ws-naive") ?? 0) >= 1.5 });
  goals.push({ goal: "edge >= 0.9x relay deliveries/s", value: d("relay"), ok: (d("relay") ?? 0) >= 0.9 });
  goals.push({ goal: "edge memory/socket <= 1/5 socketio's (ratio <= 0.20)", value: m, ok: m !== undefined && m <= 0.2 });
  console.log("");
  for (const g of goals) console.log(`  ${g.goal.padEnd(52)} ${fmt(g.value).padStart(6)}  ${g.value === undefined ? "not measured" : g.ok ? "ok" : "MISSED"}`);
}
console.log(`\nwrote ${writeResult("peers", { sockets: SOCKETS, idleSockets: IDLE_SOCKETS, stepS: STEP_S, rates: RATES, fixedRate: FIXED_RATE, fixedS: FIXED_S, results, goals })}`);
