#!/usr/bin/env node
// bench:recovery: 20,000 sockets on 2 edge nodes, one node SIGKILLed; how long until every socket
// is resumed (subscribed again with recovered:true), the peak Redis command rate during the storm,
// and how many history reads reached Redis (goal: far fewer than the sockets that resumed).
//
// One process here may hold at most ~20,000 fds, so the clients run in several forked processes
// (bench/recovery-client.mjs), each from its own source address 127.0.0.<n>. For the same reason
// the surviving node cannot hold all 20,000 sockets: each node is capped at MAX_CONNECTIONS
// (default 19,000) and, as an orchestrator would, the killed node is restarted on its port after
// RESTART_DELAY_MS (negative: never; then use SOCKETS <= 2 x (MAX_CONNECTIONS - 500) so the
// survivor can take them all); clients rotate between the two URLs with full-jitter backoff.
//
// Env: SOCKETS (20000), CLIENT_PROCS (4), USERS (200 per-user channels), ADMIN_PERCENT (0.5 of
// the sockets on orders.created), ORDER_RATE (50 orders/s during the run), RESTART_DELAY_MS (1000),
// MAX_CONNECTIONS (19000), CLIENT_MIN_DELAY_MS (500: the first reconnect waits 0..this, like the
// SDK's minReconnectDelayMs), TIMEOUT_MS (180000).
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { freePort, serviceEntry, signToken, startRedis, startService } from "@orderstream/testkit";
import { ROOT, printTable, sleep, writeResult } from "./bench-support.mjs";

const env = (name, dflt) => (process.env[name] === undefined || process.env[name] === "" ? dflt : Number(process.env[name]));
const SOCKETS = env("SOCKETS", 20_000);
const CLIENT_PROCS = env("CLIENT_PROCS", 4);
const USERS = env("USERS", 200);
const ADMIN_PERCENT = env("ADMIN_PERCENT", 0.5);
const ORDER_RATE = env("ORDER_RATE", 50);
const RESTART_DELAY_MS = env("RESTART_DELAY_MS", 1000);
const MAX_CONNECTIONS = env("MAX_CONNECTIONS", 19_000);
const TIMEOUT_MS = env("TIMEOUT_MS", 180_000);
const CLIENT_MIN_DELAY_MS = env("CLIENT_MIN_DELAY_MS", 500);
const SECRET = "bench-secret";

const redis = await startRedis();
const probe = new Redis(redis.port, "127.0.0.1");
const ports = [await freePort(), await freePort()];
const urls = ports.map((p) => `ws://127.0.0.1:${p}/ws`);
const procs = [];

function startEdge(port) {
  const svc = startService(
    serviceEntry("edge"),
    {
      REDIS_URL: redis.url,
      EDGE_HOST: "127.0.0.1",
      EDGE_PORT: String(port),
      NODE_ID: `bench-${port}`,
      AUTH_JWT_SECRET: SECRET,
      ORDER_API_URL: "127.0.0.1:1",
      MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      HISTORY_SIZE: "10000",
      LOG_LEVEL: "info",
    },
    `edge:${port}`,
  );
  procs.push(svc);
  return svc;
}

/** Parses `INFO` text into a flat map. */
function parseInfo(text) {
  const out = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
const calls = (info, cmd) => Number(/calls=(\d+)/.exec(info[`cmdstat_${cmd}`] ?? "")?.[1] ?? 0);

/** The kernel's TcpExt counters of connections dropped because an accept queue was full (Linux). */
function listenOverflows() {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n").filter((l) => l.startsWith("TcpExt:"));
    const names = (lines[0] ?? "").split(/\s+/);
    const values = (lines[1] ?? "").split(/\s+/);
    return Number(values[names.indexOf("ListenOverflows")] ?? 0);
  } catch {
    return 0;
  }
}

const clients = [];
function ask(child, cmd, extra = {}) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.type === (cmd === "report" ? "report" : "marked")) {
        child.off("message", on);
        resolve(m);
      }
    };
    child.on("message", on);
    child.send({ cmd, ...extra });
  });
}
const reportAll = async (full = false) => Promise.all(clients.map((c) => ask(c, "report", { full })));
const sum = (rs, k) => rs.reduce((n, r) => n + r[k], 0);

let flowTimer;
let exitCode = 0;
try {
  const edges = ports.map(startEdge);
  await Promise.all(edges.map((e) => e.waitFor(/"msg":"ready"/, 20_000)));
  await sleep(300);

  const token = signToken(SECRET, { sub: "bench", admin: true }, 7200);
  const channelOf = (i) => (i % Math.round(100 / ADMIN_PERCENT) === 0 ? "orders.created" : `orders.user.u${i % USERS}`);
  const perProc = Math.ceil(SOCKETS / CLIENT_PROCS);
  const t0 = Date.now();
  for (let p = 0; p < CLIENT_PROCS; p++) {
    const from = p * perProc;
    const n = Math.min(perProc, SOCKETS - from);
    const cfg = {
      urls,
      count: n,
      token,
      localAddress: `127.0.0.${p + 1}`,
      minDelayMs: CLIENT_MIN_DELAY_MS,
      channels: Array.from({ length: n }, (_, k) => channelOf(from + k)),
      firstUrl: Array.from({ length: n }, (_, k) => (from + k) % 2),
    };
    clients.push(fork(join(ROOT, "bench/recovery-client.mjs"), [JSON.stringify(cfg)], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  }
  for (let i = 0; ; i++) {
    const rs = await reportAll();
    if (sum(rs, "subscribed") >= SOCKETS) break;
    if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`only ${sum(rs, "subscribed")} of ${SOCKETS} sockets subscribed`);
    if (i % 10 === 0) console.log(`connecting: ${sum(rs, "subscribed")}/${SOCKETS} subscribed`);
    await sleep(500);
  }
  const connectMs = Date.now() - t0;
  console.log(`${SOCKETS} sockets subscribed in ${connectMs} ms`);

  // A steady order flow through the real OrderStore, so resumes have events to catch up on.
  const conn = createRedis(redis.url, { role: "command", name: "bench-flow" });
  await waitReady(conn);
  const store = new OrderStore(conn);
  let scriptCalls = 0;
  let flowErrors = 0;
  let n = 0;
  flowTimer = setInterval(() => {
    const k = Math.max(1, Math.round(ORDER_RATE / 10));
    for (let i = 0; i < k; i++, n++) {
      scriptCalls++;
      store.create({ userId: `u${n % USERS}`, items: [{ productId: "p1", quantity: 1, price: 3 }] }).catch(() => flowErrors++);
    }
  }, 100);
  await sleep(3000);

  // Sample Redis every 100 ms from just before the kill to the end of the storm.
  const samples = [];
  let sampling = true;
  const sampler = (async () => {
    let prev;
    while (sampling) {
      const info = parseInfo(await probe.info("stats"));
      const now = { at: Date.now(), total: Number(info.total_commands_processed), inst: Number(info.instantaneous_ops_per_sec) };
      if (prev) samples.push({ at: now.at, opsPerS: ((now.total - prev.total) * 1000) / (now.at - prev.at), inst: now.inst });
      prev = now;
      await sleep(100);
    }
  })();
  const before = parseInfo(await probe.info("commandstats"));
  const callsBefore = scriptCalls;
  const overflowsBefore = listenOverflows();
  const killedAt = Date.now();
  edges[1].proc.kill("SIGKILL");
  await Promise.all(clients.map((c) => ask(c, "mark", { at: killedAt })));
  if (RESTART_DELAY_MS >= 0) {
    setTimeout(() => {
      edges[1] = startEdge(ports[1]);
    }, RESTART_DELAY_MS);
  }

  let rs;
  const progress = [];
  for (;;) {
    await sleep(100);
    rs = await reportAll();
    const dropped = sum(rs, "dropped");
    const pending = sum(rs, "pending");
    progress.push({ ms: Date.now() - killedAt, dropped, pending });
    if (dropped > 0 && pending === 0) break;
    if (Date.now() - killedAt > TIMEOUT_MS) throw new Error(`${pending} of ${dropped} sockets not resumed after ${TIMEOUT_MS} ms`);
  }
  const storm = Date.now() - killedAt;
  const after = parseInfo(await probe.info("commandstats"));
  const callsDuring = scriptCalls - callsBefore;
  const overflows = listenOverflows() - overflowsBefore;
  await sleep(500);
  sampling = false;
  await sampler;
  clearInterval(flowTimer);
  flowTimer = undefined;
  await closeRedis(conn);

  rs = await reportAll(true);
  const resumeMs = rs.flatMap((r) => r.resumeMs).sort((a, b) => a - b);
  const pct = (p) => resumeMs[Math.min(resumeMs.length - 1, Math.floor((p / 100) * resumeMs.length))] ?? 0;
  const scripts = calls(after, "evalsha") + calls(after, "eval") - calls(before, "evalsha") - calls(before, "eval");
  const historyReads = scripts - callsDuring;
  const result = {
    sockets: SOCKETS,
    clientProcs: CLIENT_PROCS,
    channels: USERS + 1,
    orderRatePerS: ORDER_RATE,
    restartDelayMs: RESTART_DELAY_MS,
    clientMinReconnectDelayMs: CLIENT_MIN_DELAY_MS,
    maxConnectionsPerNode: MAX_CONNECTIONS,
    connectMs,
    dropped: sum(rs, "dropped"),
    resumedRecovered: resumeMs.length,
    recoveredFalse: sum(rs, "recoveredFalse"),
    allResumedMs: resumeMs.at(-1) ?? 0,
    stormObservedMs: storm,
    resumeP50Ms: pct(50),
    resumeP99Ms: pct(99),
    peakRedisOpsPerS: Math.round(Math.max(0, ...samples.map((s) => s.opsPerS))),
    peakRedisInstantaneousOpsPerS: Math.max(0, ...samples.map((s) => s.inst)),
    historyReadsReachingRedis: historyReads,
    xrangeCalls: calls(after, "xrange") - calls(before, "xrange"),
    positionReads: calls(after, "hmget") - calls(before, "hmget"),
    subscribeCalls: calls(after, "subscribe") - calls(before, "subscribe"),
    ordersWrittenDuringStorm: callsDuring,
    flowErrors,
    listenOverflows: overflows,
    gaps: sum(rs, "gaps"),
    duplicates: sum(rs, "duplicates"),
    eventsReceived: sum(rs, "received"),
    connectErrors: sum(rs, "connectErrors"),
    closes: rs.reduce((acc, r) => {
      for (const [k, v] of Object.entries(r.closes)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
    progress: progress.filter((_, i) => i % 5 === 0),
    redisSamples: samples.map((s) => ({ ms: s.at - killedAt, opsPerS: Math.round(s.opsPerS) })),
  };
  printTable(`recovery after SIGKILL of 1 of 2 edge nodes (${SOCKETS} sockets)`, [
    { metric: "sockets dropped by the kill", value: result.dropped },
    { metric: "resumed with recovered:true", value: result.resumedRecovered },
    { metric: "resumed with recovered:false", value: result.recoveredFalse, goal: "0", ok: result.recoveredFalse === 0 },
    { metric: "replacement node started after (ms)", value: RESTART_DELAY_MS >= 0 ? RESTART_DELAY_MS : "never" },
    { metric: "time until all resumed (ms)", value: result.allResumedMs },
    { metric: "resume p50 / p99 (ms)", value: `${result.resumeP50Ms} / ${result.resumeP99Ms}` },
    { metric: "peak Redis commands/s (100 ms)", value: result.peakRedisOpsPerS },
    { metric: "history reads reaching Redis", value: result.historyReadsReachingRedis, goal: `<< ${result.dropped}`, ok: result.historyReadsReachingRedis < result.dropped / 10 },
    { metric: "XRANGE calls (in those reads)", value: result.xrangeCalls },
    { metric: "accept-queue overflows (kernel)", value: result.listenOverflows },
    { metric: "gaps / duplicates seen by sockets", value: `${result.gaps} / ${result.duplicates}`, goal: "0 / 0", ok: result.gaps + result.duplicates === 0 },
  ]);
  console.log(`\nwrote ${writeResult("recovery", result)}`);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  if (flowTimer) clearInterval(flowTimer);
  for (const c of clients) c.send({ cmd: "exit" });
  await sleep(300);
  for (const c of clients) if (c.exitCode === null) c.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.stop("SIGKILL", 2000)));
  probe.disconnect();
  await redis.stop();
  process.exit(exitCode);
}
