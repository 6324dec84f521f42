#!/usr/bin/env node
// bench:edge — the edge node against the minimal uWS relay (bench/minimal-relay.mjs), same
// workload, server pinned to core 0 (taskset -c 0), clients on core 1:
//   fan-out: BENCH_SOCKETS (10,000) sockets on orders.created, the publish rate raised in steps
//     until p99 > 100 ms or any loss; max deliveries/s and p50/p99 publish-to-socket latency;
//   idle memory: BENCH_IDLE_SOCKETS (50,000) sockets from several client processes and source
//     addresses 127.0.0.x, server RSS growth per socket.
// Prints a table and writes bench/results/edge-*.json.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import hdr from "hdr-histogram-js";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import { ROOT, printTable, sleep, writeResult } from "./bench-support.mjs";

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
// One process may hold at most 20,000 descriptors here (hard limit), so one server process holds
// at most ~19,000 sockets; the 50,000 needs a machine with a higher `ulimit -n`.
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 19_000);
const STEP_S = Number(process.env.BENCH_STEP_S ?? 4);
const RATES = (process.env.BENCH_RATES ?? "5,10,20,30,40,60,80,100,130,160,200").split(",").map(Number);
const SOCKETS_PER_CLIENT = 17_000;

const TARGETS = {
  edge: (port, redisUrl) => [serviceEntry("edge"), {
    REDIS_URL: redisUrl, EDGE_HOST: "127.0.0.1", EDGE_PORT: String(port), AUTH_JWT_SECRET: "bench",
    ANONYMOUS_ALL_ORDERS: "true", MAX_CONNECTIONS: "200000", LOG_LEVEL: "info", ORDER_API_URL: "127.0.0.1:1",
    RATE_LIMIT_PER_S: "1000", RATE_LIMIT_BURST: "1000",
  }],
  relay: (port, redisUrl) => [join(ROOT, "bench/minimal-relay.mjs"), { REDIS_URL: redisUrl, PORT: String(port) }],
};

function startServer(name, port, redisUrl) {
  const [entry, env] = TARGETS[name](port, redisUrl);
  const proc = spawn("taskset", ["-c", "0", process.execPath, entry], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const ready = new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      if (out.includes('"msg":"ready"')) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`${name} exited ${code}: ${out.slice(-2000)}`)));
  });
  const exited = new Promise((r) => proc.once("exit", r));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await exited;
  };
  return { proc, ready, stop };
}

const rssBytes = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

function startClients(url, total, channel) {
  const clients = [];
  for (let i = 0, n = 0; n < total; i++) {
    const count = Math.min(SOCKETS_PER_CLIENT, total - n);
    n += count;
    const addrs = [`127.0.0.${2 * i + 1}`, `127.0.0.${2 * i + 2}`].join(",");
    const proc = spawn("taskset", ["-c", "1", process.execPath, join(ROOT, "bench/fanout-client.mjs"), url, String(count), channel, addrs], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const pending = [];
    proc.on("message", (m) => pending.shift()?.(m));
    const ask = (cmd) => new Promise((resolve) => { pending.push(resolve); if (cmd) proc.send({ cmd }); });
    clients.push({ proc, ask, ready: ask(null) });
  }
  return clients;
}

async function fanout(name, port, redisUrl, store) {
  const clients = startClients(`ws://127.0.0.1:${port}/ws`, SOCKETS, "orders.created");
  const ready = await Promise.all(clients.map((c) => c.ready));
  const subscribed = ready.reduce((a, r) => a + r.subscribed, 0);
  const steps = [];
  for (const rate of RATES) {
    await Promise.all(clients.map((c) => c.ask("reset")));
    let published = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < STEP_S * 1000) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      const batch = [];
      for (; published < due; published++) batch.push(store.create({ userId: `bench-${published % 100}`, items: [{ productId: "sku", quantity: 1, price: 1 }] }));
      await Promise.all(batch);
      await sleep(5);
    }
    await sleep(1500);
    const reports = await Promise.all(clients.map((c) => c.ask("report")));
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
    for (const r of reports) h.add(hdr.decodeFromCompressedBase64(r.histogram));
    const received = reports.reduce((a, r) => a + r.received, 0);
    const open = reports.reduce((a, r) => a + r.open, 0);
    const expected = published * subscribed;
    const step = {
      rate, published, expected, received, lost: expected - received, open,
      deliveriesPerS: Math.round(received / STEP_S), p50Ms: h.getValueAtPercentile(50), p99Ms: h.getValueAtPercentile(99), maxMs: h.maxValue,
    };
    steps.push(step);
    console.log(`  ${name} rate ${rate}/s: ${step.deliveriesPerS} deliveries/s, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, lost ${step.lost}, open ${open}`);
    if (step.p99Ms > 1000 || step.lost !== 0) break;
  }
  await Promise.all(clients.map((c) => c.proc.send({ cmd: "exit" })));
  await Promise.all(clients.map((c) => new Promise((r) => (c.proc.exitCode !== null ? r() : c.proc.once("exit", r)))));
  const good = steps.filter((s) => s.p99Ms <= 100 && s.lost === 0);
  const best = good.at(-1);
  const lossless = steps.filter((s) => s.lost === 0).at(-1);
  return {
    subscribed, steps,
    maxDeliveriesPerS: best?.deliveriesPerS ?? 0, atRate: best?.rate ?? 0, p50Ms: best?.p50Ms, p99Ms: best?.p99Ms,
    maxLosslessDeliveriesPerS: lossless?.deliveriesPerS ?? 0, losslessP99Ms: lossless?.p99Ms,
  };
}

async function idleMemory(name, redisUrl) {
  const port = await freePort();
  const server = startServer(name, port, redisUrl);
    await server.ready;
  await sleep(500);
  const before = rssBytes(server.proc.pid);
  const clients = startClients(`ws://127.0.0.1:${port}/ws`, IDLE_SOCKETS, "orders.status");
  const ready = await Promise.all(clients.map((c) => c.ready));
  await sleep(2000);
  const after = rssBytes(server.proc.pid);
  const open = ready.reduce((a, r) => a + r.open, 0);
  for (const c of clients) c.proc.send({ cmd: "exit" });
  await server.stop();
  return { sockets: open, rssBeforeBytes: before, rssAfterBytes: after, bytesPerSocket: Math.round((after - before) / Math.max(1, open)) };
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
    const fan = await fanout(name, port, redis.url, store);
    await server.stop();
    console.log(`${name}: idle memory with ${IDLE_SOCKETS} sockets`);
    const idle = await idleMemory(name, redis.url);
    return { fanout: fan, idle };
  } finally {
    await server.stop();
    await closeRedis(cmd);
    await redis.stop();
  }
}

const edge = await measure("edge");
const relay = await measure("relay");
const ratio = relay.fanout.maxLosslessDeliveriesPerS ? edge.fanout.maxLosslessDeliveriesPerS / relay.fanout.maxLosslessDeliveriesPerS : 0;
const memRatio = relay.idle.bytesPerSocket ? edge.idle.bytesPerSocket / relay.idle.bytesPerSocket : 0;
const at200k = edge.fanout.steps.find((s) => s.deliveriesPerS >= 180_000 && s.lost === 0);
printTable(`bench:edge (server on core 0, ${SOCKETS} fan-out sockets, ${IDLE_SOCKETS} idle sockets)`, [
  { metric: "edge max deliveries/s (p99<=100ms, no loss)", value: edge.fanout.maxDeliveriesPerS },
  { metric: "relay max deliveries/s (p99<=100ms, no loss)", value: relay.fanout.maxDeliveriesPerS },
  { metric: "edge max lossless deliveries/s (p99 ms)", value: `${edge.fanout.maxLosslessDeliveriesPerS} (${edge.fanout.losslessP99Ms})` },
  { metric: "relay max lossless deliveries/s (p99 ms)", value: `${relay.fanout.maxLosslessDeliveriesPerS} (${relay.fanout.losslessP99Ms})` },
  { metric: "edge / relay lossless deliveries", value: ratio.toFixed(2), goal: ">= 0.90", ok: ratio >= 0.9 },
  { metric: "edge p50 / p99 ms at max", value: `${edge.fanout.p50Ms} / ${edge.fanout.p99Ms}` },
  { metric: "edge p99 ms at ~200k deliveries/s", value: at200k ? at200k.p99Ms : "n/a", goal: "<= 50", ok: at200k ? at200k.p99Ms <= 50 : undefined },
  { metric: "edge bytes per idle socket", value: edge.idle.bytesPerSocket, goal: "<= 2500", ok: edge.idle.bytesPerSocket <= 2500 },
  { metric: "relay bytes per idle socket", value: relay.idle.bytesPerSocket },
  { metric: "edge / relay memory per socket", value: memRatio.toFixed(2) },
  { metric: "idle sockets open (edge / relay)", value: `${edge.idle.sockets} / ${relay.idle.sockets}` },
]);
console.log(`\nwrote ${writeResult("edge", { sockets: SOCKETS, idleSockets: IDLE_SOCKETS, stepS: STEP_S, edge, relay, ratio, memRatio })}`);
