#!/usr/bin/env node
// bench:edge — the edge node against the minimal uWS relay (bench/minimal-relay.mjs), same
// workload, server pinned to core 0 (taskset -c 0), clients on core 1:
//   fan-out: BENCH_SOCKETS (10,000) sockets on orders.created, the publish rate raised in steps
//     until any loss or p99 > 1 s; max deliveries/s (p99 <= 100 ms, and with no loss at any p99)
//     and p50/p99 publish-to-socket latency per step;
//   idle memory: BENCH_IDLE_SOCKETS sockets from several client processes and source addresses
//     127.0.0.x, server RSS growth per socket.
// Prints a table and writes bench/results/edge-*.json.
import { join } from "node:path";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import { ROOT, printTable, sleep, writeResult } from "./bench-support.mjs";
import { rampUp, rssBytes, startClients, startPinned, stopClients } from "./fanout-harness.mjs";

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
// One process may hold at most 20,000 descriptors here (hard limit), so one server process holds
// at most ~19,000 sockets; the 50,000 needs a machine with a higher `ulimit -n`.
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 19_000);
const STEP_S = Number(process.env.BENCH_STEP_S ?? 4);
const RATES = (process.env.BENCH_RATES ?? "5,10,20,30,40,60,80,100,130,160,200").split(",").map(Number);
const CLIENT = join(ROOT, "bench/fanout-client.mjs");

const TARGETS = {
  edge: (port, redisUrl) => [serviceEntry("edge"), {
    REDIS_URL: redisUrl, EDGE_HOST: "127.0.0.1", EDGE_PORT: String(port), AUTH_JWT_SECRET: "bench",
    ANONYMOUS_ALL_ORDERS: "true", MAX_CONNECTIONS: "200000", LOG_LEVEL: "info", ORDER_API_URL: "127.0.0.1:1",
    RATE_LIMIT_PER_S: "1000", RATE_LIMIT_BURST: "1000",
  }],
  relay: (port, redisUrl) => [join(ROOT, "bench/minimal-relay.mjs"), { REDIS_URL: redisUrl, PORT: String(port) }],
};

const startServer = (name, port, redisUrl) => startPinned(name, ...TARGETS[name](port, redisUrl));

async function fanout(name, server, port, store) {
  const clients = startClients(CLIENT, `ws://127.0.0.1:${port}/ws`, SOCKETS, "orders.created");
  const ready = await Promise.all(clients.map((c) => c.ready));
  const subscribed = ready.reduce((a, r) => a + r.subscribed, 0);
  try {
    return { subscribed, ...(await rampUp(name, { clients, subscribed, store, serverPid: server.proc.pid }, RATES, STEP_S)) };
  } finally {
    await stopClients(clients);
  }
}

async function idleMemory(name, redisUrl) {
  const port = await freePort();
  const server = startServer(name, port, redisUrl);
  try {
    await server.ready;
    await sleep(500);
    const before = rssBytes(server.proc.pid);
    const clients = startClients(CLIENT, `ws://127.0.0.1:${port}/ws`, IDLE_SOCKETS, "orders.status");
    const ready = await Promise.all(clients.map((c) => c.ready));
    await sleep(2000);
    const after = rssBytes(server.proc.pid);
    const open = ready.reduce((a, r) => a + r.open, 0);
    await stopClients(clients);
    return { sockets: open, rssBeforeBytes: before, rssAfterBytes: after, bytesPerSocket: Math.round((after - before) / Math.max(1, open)) };
  } finally {
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
    console.log(`${name}: fan-out to ${SOCKETS} sockets`);
    const fan = await fanout(name, server, port, store);
    await server.stop();
    console.log(`${name}: idle memory with ${IDLE_SOCKETS} sockets`);
    return { fanout: fan, idle: await idleMemory(name, redis.url) };
  } finally {
    await server.stop();
    await closeRedis(cmd);
    await redis.stop();
  }
}

const edge = await measure("edge");
const relay = await measure("relay");
const ratio = relay.fanout.maxNoLossDeliveriesPerS ? edge.fanout.maxNoLossDeliveriesPerS / relay.fanout.maxNoLossDeliveriesPerS : 0;
const memRatio = relay.idle.bytesPerSocket ? edge.idle.bytesPerSocket / relay.idle.bytesPerSocket : 0;
const at200k = edge.fanout.steps.find((s) => s.deliveriesPerS >= 180_000 && s.lost === 0);
printTable(`bench:edge (server on core 0, ${SOCKETS} fan-out sockets, ${IDLE_SOCKETS} idle sockets)`, [
  { metric: "edge max deliveries/s (p99<=100ms, no loss)", value: edge.fanout.maxDeliveriesPerS },
  { metric: "relay max deliveries/s (p99<=100ms, no loss)", value: relay.fanout.maxDeliveriesPerS },
  { metric: "edge max lossless deliveries/s (p99 ms)", value: `${edge.fanout.maxNoLossDeliveriesPerS} (${edge.fanout.noLoss?.p99Ms})` },
  { metric: "relay max lossless deliveries/s (p99 ms)", value: `${relay.fanout.maxNoLossDeliveriesPerS} (${relay.fanout.noLoss?.p99Ms})` },
  { metric: "edge / relay lossless deliveries", value: ratio.toFixed(2), goal: ">= 0.90", ok: ratio >= 0.9 },
  { metric: "edge p99 ms at ~200k deliveries/s", value: at200k ? at200k.p99Ms : "n/a", goal: "<= 50", ok: at200k ? at200k.p99Ms <= 50 : undefined },
  { metric: "edge bytes per idle socket", value: edge.idle.bytesPerSocket, goal: "<= 2500", ok: edge.idle.bytesPerSocket <= 2500 },
  { metric: "relay bytes per idle socket", value: relay.idle.bytesPerSocket },
  { metric: "edge / relay memory per socket", value: memRatio.toFixed(2) },
  { metric: "idle sockets open (edge / relay)", value: `${edge.idle.sockets} / ${relay.idle.sockets}` },
]);
console.log(`\nwrote ${writeResult("edge", { sockets: SOCKETS, idleSockets: IDLE_SOCKETS, stepS: STEP_S, edge, relay, ratio, memRatio })}`);
