#!/usr/bin/env node
// bench:api — orderstream's order-api side by side with bench/reference-order-api.mjs (what a
// competent developer writes in an afternoon), same client, same load, in one run. Per server, on
// its own fresh redis-server; server pinned to core 0, this client and Redis to core 1:
//   a. CreateOrder orders/s and p50/p99 with 64 calls in flight for BENCH_SECONDS (10), after a warm-up;
//   b. BulkCreateOrders orders/s: BENCH_BULK (50000) orders in streams of 5,000, 4 in parallel;
//   c. Redis cost per created order over a+b: INFO commandstats usec (and main-thread CPU), at the
//      end of b and again once the server's background writes (job adds) have ended;
//   d. orderstream only: processor transitions/s, 2 processor processes draining what a+b queued.
// Prints a table with both servers, the ratios and the goals; writes bench/results/api-*.json.
// BENCH_REDIS=cluster runs orderstream alone on a 3-master Redis Cluster (api-cluster-bench.mjs).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import { ROOT, printColumns, sleep, writeResult } from "./bench-support.mjs";
import { cpuMs, keepWarnings, startPinned } from "./fanout-harness.mjs";
import { USERS, bulkPhase, orderClient, unaryPhase, warmUp } from "./order-load.mjs";
import { drainWithProcessors } from "./processor-drain.mjs";
import { commandStats, mainThreadCpuUs, perOrder, pinRedis, round, totals, waitQuiet } from "./redis-stats.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BULK = Number(process.env.BENCH_BULK ?? 50_000);
const CONCURRENCY = 64;
const SERVER_CORE = "0";
const CLIENT_CORE = "1";
const READY_TIMEOUT_MS = 20_000;

const SERVERS = {
  reference: {
    entry: join(ROOT, "bench/reference-order-api.mjs"),
    env: (port, redisUrl) => ({ PORT: String(port), REDIS_URL: redisUrl }),
    processors: false,
  },
  orderstream: {
    entry: serviceEntry("order-api"),
    env: (port, redisUrl) => ({ REDIS_URL: redisUrl, GRPC_HOST: "127.0.0.1", GRPC_PORT: String(port), METRICS_PORT: "0", LOG_LEVEL: "info" }),
    processors: true,
  },
};

/** Resolves when a pinned server logged ready; rejects if it exits first or stays silent too long. */
async function ready(server) {
  let timer;
  const timeout = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${server.name}: not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([server.ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU use between two readings, in % of one core: the server, this client, Redis's main thread. */
function corePct(a, b) {
  const ms = b.at - a.at;
  const client = (b.client.user - a.client.user + b.client.system - a.client.system) / 1000;
  return { server: round((100 * (b.server - a.server)) / ms), client: round((100 * client) / ms), redis: round((100 * (b.redis - a.redis)) / 1000 / ms) };
}

/** Phases a–d against one server; what was measured before a failure is kept, with `error`. */
async function measure(name, spec) {
  const result = { server: name };
  const redis = await startRedis();
  const cmd = redis.client();
  const children = [];
  let client;
  /** @type {() => any[]} */
  /** @type {() => any[]} */
  let warnings = () => [];
  try {
    await pinRedis(cmd, CLIENT_CORE);
    const port = await freePort();
    const server = startPinned(name, spec.entry, spec.env(port, redis.url), SERVER_CORE);
    children.push(server);
    warnings = keepWarnings(server);
    await ready(server);
    client = orderClient(port);
    // No FLUSHALL under a running server (it would pull state from under it); the warm-up's orders
    // stay, and the processors drain them too.
    result.warmUpOrders = await warmUp(client, CONCURRENCY);
    await waitQuiet([cmd]);
    await cmd.config("RESETSTAT");
    const cpu0 = await mainThreadCpuUs(cmd);
    const server0 = cpuMs(server.proc.pid);
    const usage = async () => ({ at: performance.now(), server: cpuMs(server.proc.pid), client: process.cpuUsage(), redis: await mainThreadCpuUs(cmd) });

    const u0 = await usage();
    result.unary = await unaryPhase(client, { seconds: SECONDS, concurrency: CONCURRENCY });
    if (result.unary.created === 0) throw new Error(`CreateOrder: no call succeeded (${result.unary.firstError})`);
    const u1 = await usage();
    result.unary.corePct = corePct(u0, u1);
    result.bulk = await bulkPhase(client, { total: BULK });
    result.bulk.corePct = corePct(u1, await usage());
    const orders = result.unary.created + result.bulk.created;
    const atEnd = totals(await commandStats(cmd));
    const cpuAtEnd = await mainThreadCpuUs(cmd);
    const quiet = await waitQuiet([cmd]);
    const settled = await commandStats(cmd);
    result.redis = {
      orders,
      usecPerOrderAtEnd: round(atEnd.usec / orders, 2),
      usecPerOrder: round(totals(settled).usec / orders, 2),
      callsPerOrder: round(totals(settled).calls / orders, 2),
      // A command inside a script or MULTI is counted in its own line and again in EVALSHA's/EXEC's.
      innerCallsPerOrder: round(Object.entries(settled).reduce((n, [cmd, s]) => (/^(evalsha|eval|exec|multi)$/.test(cmd) ? n : n + s.calls), 0) / orders, 2),
      mainThreadCpuUsPerOrderAtEnd: round((cpuAtEnd - cpu0) / orders, 2),
      mainThreadCpuUsPerOrder: round(((await mainThreadCpuUs(cmd)) - cpu0) / orders, 2),
      backgroundWritesSettled: quiet.settled,
      backgroundWritesMs: quiet.busyMs,
      commands: perOrder(settled, orders),
    };
    result.serverCpuUsPerOrder = round(((cpuMs(server.proc.pid) - server0) * 1000) / orders, 1);
    client.close();
    client = undefined;

    if (spec.processors) {
      await cmd.config("RESETSTAT");
      result.processor = await drainWithProcessors(redis.url, { orders: result.warmUpOrders + orders, timeoutMs: Math.max(60_000, SECONDS * 6000), children });
      result.processor.redisUsecPerTransition = round(totals(await commandStats(cmd)).usec / Math.max(1, result.processor.transitions), 2);
    }
  } catch (err) {
    result.error = err.message;
    console.error(`\n${name} FAILED: ${err.message}`);
  } finally {
    result.serverWarnings = warnings();
    client?.close();
    await Promise.all(children.map((c) => c.stop()));
    cmd.disconnect();
    await redis.stop();
  }
  return result;
}

const ratio = (o, r) => (o === undefined || r === undefined || r === 0 ? undefined : o / r);
const fmtRatio = (x) => (x === undefined ? "" : `${x.toFixed(2)}x`);
const cores = (phase) => (phase?.corePct ? `${phase.corePct.server} / ${phase.corePct.client} / ${phase.corePct.redis}` : "–");
const num = (x, digits = 0) => (x === undefined ? "–" : Number(x).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));

function report(ref, os) {
  const unaryRatio = ratio(os.unary?.ordersPerS, ref.unary?.ordersPerS);
  const p99Ratio = ratio(os.unary?.latency.p99Ms, ref.unary?.latency.p99Ms);
  const bulkRatio = ratio(os.bulk?.ordersPerS, ref.bulk?.ordersPerS);
  const known = (x, test) => (x === undefined ? undefined : test(x));
  const row = (metric, r, o, extra = {}) => ({ metric, cells: [r, o, extra.ratio ?? ""], goal: extra.goal, ok: extra.ok });
  printColumns(`bench:api (server on core ${SERVER_CORE}; client and Redis on core ${CLIENT_CORE}; ${SECONDS} s unary, ${BULK} bulk, ${USERS} users)`, ["reference", "orderstream", "os/ref"], [
    row("CreateOrder orders/s (64 in flight)", num(ref.unary?.ordersPerS), num(os.unary?.ordersPerS), { ratio: fmtRatio(unaryRatio), goal: ">= 1.1x", ok: known(unaryRatio, (x) => x >= 1.1) }),
    row("CreateOrder p50 ms", num(ref.unary?.latency.p50Ms, 2), num(os.unary?.latency.p50Ms, 2), { ratio: fmtRatio(ratio(os.unary?.latency.p50Ms, ref.unary?.latency.p50Ms)) }),
    row("CreateOrder p99 ms", num(ref.unary?.latency.p99Ms, 2), num(os.unary?.latency.p99Ms, 2), { ratio: fmtRatio(p99Ratio), goal: "<= reference", ok: known(p99Ratio, (x) => x <= 1) }),
    row("CreateOrder errors", num(ref.unary?.errors), num(os.unary?.errors)),
    row("  core % server / client / Redis", cores(ref.unary), cores(os.unary)),
    row("BulkCreateOrders orders/s", num(ref.bulk?.ordersPerS), num(os.bulk?.ordersPerS), { ratio: fmtRatio(bulkRatio), goal: ">= 1.5x", ok: known(bulkRatio, (x) => x >= 1.5) }),
    row("  core % server / client / Redis", cores(ref.bulk), cores(os.bulk)),
    row("Redis usec/order, commandstats, end of b", num(ref.redis?.usecPerOrderAtEnd, 1), num(os.redis?.usecPerOrderAtEnd, 1), { ratio: fmtRatio(ratio(os.redis?.usecPerOrderAtEnd, ref.redis?.usecPerOrderAtEnd)) }),
    row("Redis usec/order, commandstats, settled", num(ref.redis?.usecPerOrder, 1), num(os.redis?.usecPerOrder, 1), {
      ratio: fmtRatio(ratio(os.redis?.usecPerOrder, ref.redis?.usecPerOrder)), goal: "<= 25", ok: known(os.redis?.usecPerOrder, (x) => x <= 25),
    }),
    row("Redis commands/order, settled", num(ref.redis?.callsPerOrder, 2), num(os.redis?.callsPerOrder, 2)),
    row("  the same without EVALSHA/EXEC lines", num(ref.redis?.innerCallsPerOrder, 2), num(os.redis?.innerCallsPerOrder, 2), {
      goal: "<= 8", ok: known(os.redis?.innerCallsPerOrder, (x) => x <= 8),
    }),
    row("Redis main-thread CPU usec/order, settled", num(ref.redis?.mainThreadCpuUsPerOrder, 1), num(os.redis?.mainThreadCpuUsPerOrder, 1), {
      ratio: fmtRatio(ratio(os.redis?.mainThreadCpuUsPerOrder, ref.redis?.mainThreadCpuUsPerOrder)), goal: "<= 12", ok: known(os.redis?.mainThreadCpuUsPerOrder, (x) => x <= 12),
    }),
    row("background writes after b, ms", num(ref.redis?.backgroundWritesMs), num(os.redis?.backgroundWritesMs)),
    row("server CPU usec/order (a+b)", num(ref.serverCpuUsPerOrder), num(os.serverCpuUsPerOrder), { ratio: fmtRatio(ratio(os.serverCpuUsPerOrder, ref.serverCpuUsPerOrder)) }),
    row("processor transitions/s (2 workers)", "", num(os.processor?.transitionsPerS), { goal: ">= 10000", ok: known(os.processor?.transitionsPerS, (x) => x >= 10000) }),
    row("processor transitions done/expected", "", os.processor ? `${os.processor.transitions}/${os.processor.expected}` : "–"),
    row("Redis usec/transition (processors)", "", num(os.processor?.redisUsecPerTransition, 1)),
  ]);
  for (const r of [ref, os]) {
    if (r.redis) console.log(`  ${r.server} Redis usec/order by command: ${r.redis.commands.slice(0, 8).map((c) => `${c.command} ${c.usecPerOrder}`).join(", ")}`);
    if (!r.redis?.backgroundWritesSettled && r.redis) console.log(`  ${r.server}: Redis commands had not stopped after 15 s`);
    for (const [who, lines] of [[r.server, r.serverWarnings], [`${r.server} processors`, r.processor?.warnings]]) {
      if (lines?.length) console.log(`  ${who}: ${lines.length} warn/error log lines (in the JSON), last: ${lines.at(-1).slice(0, 300)}`);
    }
    if (r.processor?.timedOut) console.log(`  ${r.server}: processors stopped short of the expected transitions (rate up to the last progress)`);
    if (r.error) console.log(`  ${r.server} FAILED: ${r.error}`);
  }
  console.log("  (commandstats count a command inside MULTI/EXEC or a Lua script twice: in its own line and in EXEC's/EVALSHA's)");
}

async function main() {
  // This client (and every child not pinned elsewhere, Redis included) runs on the client core.
  execFileSync("taskset", ["-a", "-cp", CLIENT_CORE, String(process.pid)], { stdio: "ignore" });
  const ref = await measure("reference", SERVERS.reference);
  await sleep(1000);
  const os = await measure("orderstream", SERVERS.orderstream);
  report(ref, os);
  const referenceCodec = await import("@grpc/proto-loader").then(() => "proto-loader", () => "ts-proto");
  const file = writeResult("api", { seconds: SECONDS, bulkOrders: BULK, concurrency: CONCURRENCY, referenceCodec, reference: ref, orderstream: os });
  console.log(`\nwrote ${file}`);
  if (ref.error || os.error) process.exitCode = 1;
}

if (process.env.BENCH_REDIS === "cluster") {
  const { runClusterBench } = await import("./api-cluster-bench.mjs");
  await runClusterBench({ seconds: SECONDS, bulk: BULK, concurrency: CONCURRENCY, serverCore: SERVER_CORE, clientCore: CLIENT_CORE });
} else {
  await main();
}
