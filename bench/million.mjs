#!/usr/bin/env node
// bench:million: ramps subscribed sockets on one machine (both ends here) through --steps
// (100k → 250k → 500k → 1M) against one edge node (EDGE_WORKERS processes on one port, each under
// the 20,000-descriptor limit) on its own redis-server, with client processes of the load tool's
// lean raw WebSocket client (bench/million-client.mjs) over source addresses 127.0.0.2, … Every
// socket is its own user (a token per socket, in `connect`) on orders.user.m<i>; a --status-share
// also on orders.status (public here: ANONYMOUS_ALL_ORDERS=true, as a public status feed would be). At each step: connects/s and failures; bytes per socket on the edge, in
// the clients and in the kernel (Slab, sockstat); Redis memory and channels; edge idle CPU. At the
// top: one orders.status event to every subscriber (time to the last delivery, lost); personal
// orders at --personal-rate (p50/p99, lost); churn of pool sockets at --churn connects+disconnects
// per second for --churn-s with resumes (lost, duplicated), with one edge worker SIGTERM-drained
// in the middle of it. Stops adding sockets when MemAvailable falls under --min-available-gib and
// reports the ceiling with what ran out. Every phase is bounded in time.
//
//   npm run bench:million [-- --steps 100000,250000,500000,1000000 --status-share 1 --churn 3333 ...]
// Prints tables and writes bench/results/million-*.json.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { freePort, serviceEntry, startRedis, startService } from "@orderstream/testkit";
import hdr from "hdr-histogram-js";
import { ROOT, printColumns, printTable, sleep, writeResult } from "./bench-support.mjs";
import { groupCpuMs, groupRssBytes, processTree } from "./fanout-harness.mjs";

const { values: a } = parseArgs({
  options: {
    steps: { type: "string", default: "100000,250000,500000,1000000" },
    "status-share": { type: "string", default: "1" },
    "edge-workers": { type: "string", default: "auto" },
    "per-client": { type: "string", default: "17500" },
    ramp: { type: "string", default: "2000" },
    "personal-rate": { type: "string", default: "500" },
    "personal-s": { type: "string", default: "20" },
    churn: { type: "string", default: "3333" },
    "churn-s": { type: "string", default: "60" },
    pool: { type: "string", default: "2000" },
    "min-available-gib": { type: "string", default: "2" },
    "step-timeout-s": { type: "string", default: "900" },
  },
});
const num = (k) => {
  const v = Number(a[k]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${k} must be a number >= 0, got ${JSON.stringify(a[k])}`);
    process.exit(2);
  }
  return v;
};
const STEPS = a.steps.split(",").map(Number);
if (STEPS.some((s) => !Number.isInteger(s) || s <= 0)) {
  console.error(`--steps must be positive integers, got ${a.steps}`);
  process.exit(2);
}
const TOTAL = Math.max(...STEPS);
const PER_CLIENT = num("per-client");
const MIN_AVAILABLE = num("min-available-gib") * 2 ** 30;
const SECRET = "million";
const PER_ADDRESS = 25_000;

const meminfo = () =>
  Object.fromEntries(
    readFileSync("/proc/meminfo", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [k, v] = l.split(":");
        return [k, Number.parseInt(v, 10) * 1024];
      }),
  );
const sockstat = () => {
  const t = readFileSync("/proc/net/sockstat", "utf8");
  const tcp = /TCP: inuse (\d+) orphan (\d+) tw (\d+) alloc (\d+) mem (\d+)/.exec(t);
  return tcp ? { inuse: +tcp[1], tw: +tcp[3], alloc: +tcp[4], memPages: +tcp[5] } : {};
};
const hardFileLimit = () => Number(/^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? 0);
const mb = (b) => Math.round(b / 2 ** 20);

// ---- the cluster: redis-server, one edge node ----
const fileLimit = hardFileLimit();
const perWorker = Math.max(1000, fileLimit - 256);
// Headroom: the kernel spreads connections over the workers' listeners by hash (a few percent
// apart), and a drained worker's sockets must fit on the others until it is back.
const edgeWorkers = a["edge-workers"] === "auto" ? Math.min(64, Math.ceil((TOTAL * 1.05) / perWorker) + 1) : num("edge-workers");
const maxConnections = Math.ceil(Math.max(TOTAL * 1.12, edgeWorkers > 1 ? ((TOTAL * edgeWorkers) / (edgeWorkers - 1)) * 1.05 : 0));
console.log(
  `million: steps ${STEPS.join(" → ")}, open-file limit ${fileLimit}, edge workers ${edgeWorkers}, MemAvailable ${mb(meminfo().MemAvailable)} MB`,
);

const redis = await startRedis(["--maxclients", "10000"]);
// The driver's own writes wait out a busy Redis (the default 800 ms command timeout is for services).
const cmd = createRedis(redis.url, { role: "command", name: "bench", commandTimeoutMs: 30_000 });
await waitReady(cmd);
const store = new OrderStore(cmd);
const port = await freePort();
const edge = startService(
  serviceEntry("edge"),
  {
    REDIS_URL: redis.url,
    EDGE_HOST: "127.0.0.1",
    EDGE_PORT: String(port),
    AUTH_JWT_SECRET: SECRET,
    ANONYMOUS_ALL_ORDERS: "true",
    MAX_CONNECTIONS: String(maxConnections),
    EDGE_WORKERS: String(edgeWorkers),
    LOG_LEVEL: "info",
    ORDER_API_URL: "127.0.0.1:1",
    NODE_OPTIONS: "--max-semi-space-size=2",
  },
  "edge",
);
// A crash of this script takes the cluster down with it (the clients exit on their own when their
// IPC channel closes; the edge's workers drain and exit when their supervisor is gone).
const fatal = (err) => {
  console.error("million: failed:", err);
  edge.proc.kill("SIGKILL");
  void Promise.race([redis.stop(), sleep(5000)]).finally(() => process.exit(1));
};
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
process.on("SIGINT", () => fatal(new Error("SIGINT")));
process.on("SIGTERM", () => fatal(new Error("SIGTERM")));
await edge.waitFor(/"msg":"ready"/, 120_000);
await sleep(2000);
const edgePids = () => processTree(edge.pid);
const url = `ws://127.0.0.1:${port}/ws`;

// ---- client processes ----
const clientCount = Math.ceil(TOTAL / PER_CLIENT);
// Every block of PER_ADDRESS sockets binds its own address and explicit ports (127.0.0.2, …): left
// to the kernel's choice, the 25,000 sockets of a first block make connect() scan an ever fuller
// ephemeral port range, which blocked a client process for over a minute at the 1M step.
const addresses = Array.from({ length: Math.ceil(TOTAL / PER_ADDRESS) }, (_, i) => `127.0.0.${i + 2}`);
const clients = [];
for (let i = 0; i < clientCount; i++) {
  const start = Math.floor((TOTAL * i) / clientCount);
  const count = Math.floor((TOTAL * (i + 1)) / clientCount) - start;
  const proc = fork(join(ROOT, "bench/million-client.mjs"), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: ["--max-semi-space-size=2"],
  });
  const waiting = new Map();
  proc.on("message", (/** @type {any} */ m) => {
    const w = waiting.get(m.type);
    if (w) {
      waiting.delete(m.type);
      w(m);
    }
  });
  const ask = (cmdName, extra = {}, reply = cmdName) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`client ${i}: no ${reply} within 60 s`)), 60_000);
      waiting.set(reply, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      proc.send({ cmd: cmdName, ...extra });
    });
  const ready = new Promise((r) => waiting.set("ready", r));
  clients.push({ i, proc, start, count, ask, ready });
}
await Promise.all(clients.map((c) => c.ready));
const baseline = {
  edgeRss: groupRssBytes(edgePids()),
  clientRss: groupRssBytes(clients.map((c) => c.proc.pid)),
  mem: meminfo(),
  sockstat: sockstat(),
  redis: await redisFigures(),
};
await Promise.all(
  clients.map((c) =>
    c.ask("init", {
      url,
      start: c.start,
      count: c.count,
      statusShare: num("status-share"),
      secret: SECRET,
      addresses,
      perAddress: PER_ADDRESS,
      pool: Math.min(c.count, num("pool")),
      rampPerS: num("ramp") / clientCount,
    }),
  ),
);

async function redisFigures() {
  const info = await cmd.info();
  const field = (k) => Number(new RegExp(`^${k}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { usedMemory: field("used_memory"), pubsubChannels: field("pubsub_channels"), clients: field("connected_clients") };
}
const reports = () => Promise.all(clients.map((c) => c.ask("report")));
const sum = (rs, k) => rs.reduce((s, r) => s + (r[k] ?? 0), 0);
const mergeCounts = (rs, k) => {
  const out = {};
  for (const r of rs) for (const [x, n] of Object.entries(r[k])) out[x] = (out[x] ?? 0) + n;
  return out;
};
const merged = (rs, k) => {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  for (const r of rs) h.add(hdr.decodeFromCompressedBase64(r[k]));
  return h;
};
let lastProgress = 0;
/** A progress line: redrawn on a TTY, else at most one a second. */
const progress = (line) => {
  if (process.stderr.isTTY) return void process.stderr.write(`\r${line}\x1b[K`);
  if (performance.now() - lastProgress < 1000) return;
  lastProgress = performance.now();
  console.error(line);
};

// ---- the ramp ----
/** @type {any[]} */
const steps = [];
/** @type {{ sockets: number, ranOut: string } | undefined} */
let ceiling;
for (const target of STEPS) {
  const t0 = performance.now();
  const cpu0 = groupCpuMs(edgePids());
  const before = await reports();
  await Promise.all(clients.map((c) => c.ask("grow", { to: Math.ceil((target * c.count) / TOTAL) })));
  let last = sum(before, "subscribed");
  let lastChange = performance.now();
  let rs = before;
  for (;;) {
    await sleep(1000);
    rs = await reports();
    const sub = sum(rs, "subscribed");
    const failed = Object.values(mergeCounts(rs, "failures")).reduce((x, y) => x + y, 0);
    const avail = meminfo().MemAvailable;
    const elapsed = (performance.now() - t0) / 1000;
    progress(
      `million: step ${target}: ${sub} subscribed, ${sum(rs, "connecting")} connecting, ${failed} failed, MemAvailable ${mb(avail)} MB, ${elapsed.toFixed(0)} s`,
    );
    if (sub !== last) lastChange = performance.now();
    last = sub;
    if (avail < MIN_AVAILABLE) {
      ceiling = { sockets: sub, ranOut: `memory: MemAvailable ${mb(avail)} MB < ${mb(MIN_AVAILABLE)} MB` };
      break;
    }
    if (sum(rs, "opened") >= target && sum(rs, "connecting") === 0 && sub + failed >= target) break;
    if (sub >= target) break;
    if (performance.now() - lastChange > 60_000) {
      ceiling = { sockets: sub, ranOut: "no progress for 60 s" };
      break;
    }
    if (elapsed > num("step-timeout-s")) {
      ceiling = { sockets: sub, ranOut: `step timeout ${num("step-timeout-s")} s` };
      break;
    }
  }
  if (ceiling) await Promise.all(clients.map((c) => c.ask("hold")));
  const rampS = (performance.now() - t0) / 1000;
  const connectCpuMs = groupCpuMs(edgePids()) - cpu0;
  await sleep(5000);
  const cpu1 = groupCpuMs(edgePids());
  await sleep(10_000);
  const idleCpuMs = groupCpuMs(edgePids()) - cpu1;
  rs = await reports();
  const sub = sum(rs, "subscribed");
  const added = sub - sum(before, "subscribed");
  const mem = meminfo();
  const ss = sockstat();
  const rf = await redisFigures();
  const edgeRss = groupRssBytes(edgePids());
  const clientRss = groupRssBytes(clients.map((c) => c.proc.pid));
  const per = (x, x0) => Math.round((x - x0) / Math.max(1, sub));
  const step = {
    target,
    subscribed: sub,
    open: sum(rs, "open"),
    failures: mergeCounts(rs, "failures"),
    errors: mergeCounts(rs, "errors"),
    rampS: +rampS.toFixed(1),
    connectsPerS: Math.round(added / rampS),
    connectP50Ms: merged(rs, "connectHistogram").getValueAtPercentile(50),
    connectP99Ms: merged(rs, "connectHistogram").getValueAtPercentile(99),
    edgeRssBytes: edgeRss,
    edgeBytesPerSocket: per(edgeRss, baseline.edgeRss),
    clientRssBytes: clientRss,
    clientBytesPerSocket: per(clientRss, baseline.clientRss),
    slabBytes: mem.Slab,
    kernelSlabBytesPerSocket: per(mem.Slab, baseline.mem.Slab),
    tcpMemPages: ss.memPages,
    sockstat: ss,
    memAvailableBytes: mem.MemAvailable,
    machineUsedBytesPerSocket: per(baseline.mem.MemAvailable, mem.MemAvailable),
    redisUsedMemory: rf.usedMemory,
    redisPubsubChannels: rf.pubsubChannels,
    edgeConnectCpuMsPer1k: +((connectCpuMs * 1000) / Math.max(1, added)).toFixed(1),
    edgeIdleCpuPctPer100k: +(((idleCpuMs / 10_000) * 100 * 100_000) / Math.max(1, sub)).toFixed(2),
  };
  steps.push(step);
  console.log(`\nmillion: step ${target}: ${JSON.stringify({ ...step, failures: undefined, errors: undefined, sockstat: undefined })}`);
  if (Object.keys(step.failures).length)
    console.log(`  failures: ${JSON.stringify(step.failures)}, errors: ${JSON.stringify(step.errors)}`);
  if (ceiling) break;
}
const top = steps.at(-1);
if (!top) throw new Error("no step of the ramp ran");

// ---- one orders.status event to every subscriber ----
const expectedStatus = Math.round(top.subscribed * Math.min(1, num("status-share")));
await Promise.all(clients.map((c) => c.ask("reset")));
const bcastOrder = await store.create({ userId: "million-broadcast", items: [{ productId: "sku", quantity: 1, price: 1 }] });
const orderId = bcastOrder.order.id;
const sentAt = Date.now();
await store.transition(orderId, "confirm");
let rs = await reports();
for (let t = 0; t < 60 && sum(rs, "status") < expectedStatus; t++) {
  await sleep(500);
  rs = await reports();
}
const statusGot = sum(rs, "status");
const lastAt = Math.max(0, ...rs.map((r) => r.statusLast));
const broadcast = {
  subscribers: expectedStatus,
  delivered: statusGot,
  lost: expectedStatus - statusGot,
  timeToLastMs: lastAt ? lastAt - sentAt : null,
  timeToFirstMs: statusGot ? Math.min(...rs.filter((r) => r.statusFirst).map((r) => r.statusFirst)) - sentAt : null,
};
console.log(`million: broadcast ${JSON.stringify(broadcast)}`);

// ---- personal orders at a steady rate ----
// To pool sockets (each client's first --pool), whose clients check every order id arrived.
await Promise.all(clients.map((c) => c.ask("reset")));
const personalRate = num("personal-rate");
const personalS = num("personal-s");
const grownPool = (c) => Math.min(num("pool"), Math.ceil((top.target * c.count) / TOTAL), c.count);
/** Creates `count` orders for random pool users; returns [client index, local, order id] per order. */
async function poolOrdersBatch(count) {
  const batch = [];
  const owners = [];
  for (let k = 0; k < count; k++) {
    const c = clients[Math.floor(Math.random() * clientCount)];
    const local = Math.floor(Math.random() * grownPool(c));
    batch.push({ userId: `m${c.start + local}`, items: [{ productId: "sku", quantity: 1, price: 1 }] });
    owners.push([c.i, local]);
  }
  const orders = count ? await store.createMany(batch) : [];
  return orders.map((o, k) => [owners[k][0], owners[k][1], o.id]);
}
const byClient = (triples) => clients.map((c) => triples.filter((t) => t[0] === c.i).map((t) => [t[1], t[2]]));
let created = 0;
const personalOrders = [];
{
  const t0 = performance.now();
  while (performance.now() - t0 < personalS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * personalRate);
    personalOrders.push(...(await poolOrdersBatch(due - created)));
    created = due;
    await sleep(5);
  }
}
const personalSplit = byClient(personalOrders);
await Promise.all(clients.map((c, i) => c.ask("expect", { orders: personalSplit[i], reset: true })));
rs = await reports();
for (let t = 0; t < 40 && sum(rs, "poolLost") > 0; t++) {
  await sleep(500);
  rs = await reports();
}
const ph = merged(rs, "histogram");
const personal = {
  orders: created,
  ratePerS: personalRate,
  expected: sum(rs, "poolExpected"),
  delivered: sum(rs, "poolReceived"),
  lost: sum(rs, "poolLost"),
  toFailedSockets: sum(rs, "poolNoSocket"),
  p50Ms: ph.getValueAtPercentile(50),
  p99Ms: ph.getValueAtPercentile(99),
  maxMs: ph.maxValue,
};
console.log(`million: personal ${JSON.stringify(personal)}`);

// ---- churn with resumes, one edge worker drained in the middle ----
const churnPerS = num("churn");
const churnS = num("churn-s");
await Promise.all(clients.map((c) => c.ask("reset")));
const before = await reports();
await Promise.all(clients.map((c) => c.ask("churn", { perS: churnPerS / clientCount, seconds: churnS })));
const churnOrders = [];
let drained;
{
  const t0 = performance.now();
  let n = 0;
  const poolRate = 100;
  while (performance.now() - t0 < churnS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * poolRate);
    churnOrders.push(...(await poolOrdersBatch(due - n)));
    n = due;
    if (!drained && edgeWorkers > 1 && performance.now() - t0 > (churnS * 1000) / 2) {
      const workers = edgePids().slice(1);
      const victim = workers[Math.floor(workers.length / 2)];
      drained = { pid: victim, at: Date.now() };
      process.kill(victim, "SIGTERM");
      console.log(`million: SIGTERM to edge worker ${victim}`);
    }
    progress(`million: churn ${((performance.now() - t0) / 1000).toFixed(0)} s, ${churnOrders.length} pool orders`);
    await sleep(20);
  }
}
const churnSplit = byClient(churnOrders);
await Promise.all(clients.map((c, i) => c.ask("expect", { orders: churnSplit[i], reset: true })));
// settle: every socket back (drained ones reconnect within ~2 s after their close)
let settleRs = await reports();
for (let t = 0; t < 60 && (sum(settleRs, "subscribed") < top.subscribed || sum(settleRs, "poolLost") > 0); t++) {
  await sleep(1000);
  settleRs = await reports();
}
await sleep(3000);
settleRs = await reports();
const churn = {
  perS: churnPerS,
  seconds: churnS,
  disconnects: sum(settleRs, "churned") - sum(before, "churned"),
  connects: sum(settleRs, "connects"),
  connectsPerS: Math.round(sum(settleRs, "connects") / churnS),
  failures: mergeCounts(settleRs, "failures"),
  reconnectFailures: mergeCounts(settleRs, "reconnectFailures"),
  closes: mergeCounts(settleRs, "closes"),
  resumed: sum(settleRs, "resumed"),
  notRecovered: sum(settleRs, "notRecovered"),
  poolOrders: sum(settleRs, "poolExpected"),
  lost: sum(settleRs, "poolLost"),
  duplicated: sum(settleRs, "duplicates"),
  reconnectsAfterServerClose: sum(settleRs, "reconnects") - sum(before, "reconnects"),
  subscribedAfter: sum(settleRs, "subscribed"),
  drainedWorkerPid: drained?.pid,
};
console.log(`million: churn ${JSON.stringify(churn)}`);

// ---- the tables and the JSON ----
printColumns(
  "bench:million: the ramp",
  steps.map((s) => String(s.target)),
  [
    { metric: "subscribed sockets", cells: steps.map((s) => s.subscribed) },
    { metric: "failed connects", cells: steps.map((s) => Object.values(s.failures).reduce((x, y) => x + y, 0)) },
    { metric: "connects/s", cells: steps.map((s) => s.connectsPerS) },
    { metric: "connect p99 (ms)", cells: steps.map((s) => s.connectP99Ms) },
    { metric: "edge bytes/socket", cells: steps.map((s) => s.edgeBytesPerSocket), goal: "<= 1,200" },
    { metric: "client bytes/socket", cells: steps.map((s) => s.clientBytesPerSocket) },
    { metric: "kernel Slab bytes/socket", cells: steps.map((s) => s.kernelSlabBytesPerSocket) },
    { metric: "machine bytes/socket (MemAvailable)", cells: steps.map((s) => s.machineUsedBytesPerSocket) },
    { metric: "tcp mem pages (sockstat)", cells: steps.map((s) => s.tcpMemPages) },
    { metric: "redis used MB", cells: steps.map((s) => mb(s.redisUsedMemory)) },
    { metric: "redis pub/sub channels", cells: steps.map((s) => s.redisPubsubChannels) },
    { metric: "edge connect CPU ms/1k", cells: steps.map((s) => s.edgeConnectCpuMsPer1k) },
    { metric: "edge idle CPU % per 100k", cells: steps.map((s) => s.edgeIdleCpuPctPer100k) },
    { metric: "MemAvailable MB", cells: steps.map((s) => mb(s.memAvailableBytes)) },
  ],
);
printTable("bench:million: at the top", [
  { metric: "broadcast: subscribers", value: broadcast.subscribers },
  { metric: "broadcast: lost", value: broadcast.lost, goal: "0", ok: broadcast.lost === 0 },
  {
    metric: "broadcast: time to last delivery (ms)",
    value: broadcast.timeToLastMs,
    goal: "<= 5,000",
    ok: broadcast.timeToLastMs !== null && broadcast.timeToLastMs <= 5000,
  },
  { metric: `personal: ${personalRate}/s p50 / p99 (ms)`, value: `${personal.p50Ms} / ${personal.p99Ms}` },
  { metric: "personal: lost", value: personal.lost, goal: "0", ok: personal.lost === 0 },
  {
    metric: "churn: disconnects / connects per s",
    value: `${Math.round(churn.disconnects / churnS)} / ${churn.connectsPerS}`,
    goal: `${churnPerS} / ${churnPerS}`,
  },
  {
    metric: "churn: resumed sockets lost / duplicated",
    value: `${churn.lost} / ${churn.duplicated}`,
    goal: "0 / 0",
    ok: churn.lost === 0 && churn.duplicated === 0,
  },
]);
if (ceiling) console.log(`\nceiling: ${ceiling.sockets} sockets; ran out of ${ceiling.ranOut}`);
const file = writeResult("million", {
  params: a,
  edgeWorkers,
  clientProcesses: clientCount,
  fileLimit,
  baseline,
  steps,
  ceiling,
  broadcast,
  personal,
  churn,
});
console.log(`wrote ${file}`);

// ---- teardown ----
for (const c of clients) c.proc.send({ cmd: "exit" });
await sleep(1500);
for (const c of clients) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
await edge.stop("SIGTERM", 60_000);
await closeRedis(cmd);
await redis.stop();
