// BENCH_REDIS=cluster mode of bench:api: orderstream's order-api alone on a local Redis Cluster of
// 3 masters (startRedisCluster from @orderstream/testkit, one replica each), same client and load
// as the single-node run (CreateOrder, then BulkCreateOrders), then 2 processors drive every order
// to DELIVERED. Reports each master's share of the commands (sum of calls in INFO commandstats,
// counted from after the warm-up until the processors are done) and of their usec.
import * as testkit from "@orderstream/testkit";
import { printColumns, writeResult } from "./bench-support.mjs";
import { keepWarnings, startPinned } from "./fanout-harness.mjs";
import { bulkPhase, orderClient, unaryPhase, warmUp } from "./order-load.mjs";
import { drainWithProcessors } from "./processor-drain.mjs";
import { commandStats, perOrder, pinRedis, round, totals, waitQuiet } from "./redis-stats.mjs";

const MASTERS = 3;

/** Runs the cluster mode; sizes and cores as in api-bench.mjs. */
export async function runClusterBench({ seconds, bulk, concurrency, serverCore, clientCore }) {
  if (typeof testkit.startRedisCluster !== "function") {
    throw new Error("@orderstream/testkit has no startRedisCluster (packages/testkit/src/redis-cluster.ts): build it first (npm run build)");
  }
  const cluster = await testkit.startRedisCluster({ masters: MASTERS });
  const children = [];
  let client;
  const result = { mode: "cluster", masters: MASTERS };
  try {
    for (const n of cluster.nodes) await pinRedis(cluster.nodeClient(n.port), clientCore);
    const masters = await cluster.masters();
    if (masters.length !== MASTERS) throw new Error(`expected ${MASTERS} masters, CLUSTER NODES shows ${masters.length}`);
    const conns = masters.map((m) => cluster.nodeClient(m.port));
    const port = await testkit.freePort();
    const api = startPinned("order-api", testkit.serviceEntry("order-api"), {
      REDIS_URL: cluster.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: String(port), METRICS_PORT: "0", LOG_LEVEL: "info",
    }, serverCore);
    children.push(api);
    const warnings = keepWarnings(api);
    await api.ready;
    client = orderClient(port);
    result.warmUpOrders = await warmUp(client, concurrency);
    await waitQuiet(conns);
    await Promise.all(conns.map((c) => c.config("RESETSTAT")));

    result.unary = await unaryPhase(client, { seconds, concurrency });
    result.bulk = await bulkPhase(client, { total: bulk });
    client.close();
    client = undefined;
    const orders = result.unary.created + result.bulk.created;
    result.backgroundWrites = await waitQuiet(conns);
    result.processor = await drainWithProcessors(cluster.url, { orders: result.warmUpOrders + orders, timeoutMs: Math.max(60_000, seconds * 6000), children });
    await waitQuiet(conns);

    const stats = await Promise.all(conns.map((c) => commandStats(c)));
    const sums = stats.map(totals);
    const all = totals(Object.fromEntries(sums.map((s, i) => [i, s])));
    result.serverWarnings = warnings();
    result.perMaster = masters.map((m, i) => ({
      port: m.port,
      slots: m.slots,
      calls: sums[i].calls,
      callShare: round(sums[i].calls / all.calls, 3),
      usec: sums[i].usec,
      usecShare: round(sums[i].usec / all.usec, 3),
      commands: perOrder(stats[i], orders).slice(0, 10),
    }));
    result.callsPerOrder = round(all.calls / orders, 2);

    const pct = (x) => `${(x * 100).toFixed(1)} %`;
    printColumns(`bench:api cluster mode (${MASTERS} masters; order-api on core ${serverCore}; client and Redis on core ${clientCore})`, ["value"], [
      { metric: "CreateOrder orders/s (64 in flight)", cells: [result.unary.ordersPerS] },
      { metric: "CreateOrder p50 / p99 ms", cells: [`${result.unary.latency.p50Ms.toFixed(2)} / ${result.unary.latency.p99Ms.toFixed(2)}`] },
      { metric: "CreateOrder errors", cells: [result.unary.errors] },
      { metric: "BulkCreateOrders orders/s", cells: [result.bulk.ordersPerS] },
      { metric: "processor transitions/s (2 workers)", cells: [result.processor.transitionsPerS] },
      { metric: "processor transitions done/expected", cells: [`${result.processor.transitions}/${result.processor.expected}`] },
      { metric: "Redis commands/order, create + process", cells: [result.callsPerOrder] },
      ...result.perMaster.map((m) => ({
        metric: `master :${m.port} slots ${m.slots.map(([a, b]) => `${a}-${b}`).join(",")}`,
        cells: [`${pct(m.callShare)} calls, ${pct(m.usecShare)} usec`],
      })),
    ]);
    console.log(`  (an even spread is ${pct(1 / MASTERS)} per master)`);
    for (const m of result.perMaster) {
      console.log(`  :${m.port} usec/order by command: ${m.commands.slice(0, 5).map((c) => `${c.command} ${c.usecPerOrder}`).join(", ")}`);
    }
    for (const [who, lines] of [["order-api", result.serverWarnings], ["processors", result.processor.warnings]]) {
      if (lines.length) console.log(`  ${who}: ${lines.length} warn/error log lines (in the JSON), last: ${lines.at(-1).slice(0, 300)}`);
    }
    if (result.processor.timedOut) console.log("  processors stopped short of the expected transitions (rate up to the last progress)");
    if (result.unary.firstError) console.log(`  first CreateOrder error: ${result.unary.firstError}`);
  } catch (err) {
    result.error = err.message;
    process.exitCode = 1;
    console.error(`\norderstream on the cluster FAILED: ${err.message}`);
  } finally {
    client?.close();
    await Promise.all(children.map((c) => c.stop()));
    await cluster.stop();
  }
  console.log(`\nwrote ${writeResult("api-cluster", { seconds, bulkOrders: bulk, concurrency, orderstream: result })}`);
}
