#!/usr/bin/env node
// bench:wait — the throughput cost of REDIS_WAIT_REPLICAS=1: orders/s of the order store (64
// creates in flight, BENCH_ORDERS of them, 1,000 users) without and with WAIT, on a primary with
// one replica and on a 3-master Redis Cluster with one replica each, in one run.
// Writes bench/results/wait-*.json. Usage: npm run build && node bench/wait-bench.mjs
import { OrderStore, closeRedis, createRedis, isClusterUrl, waitReady } from "@orderstream/bus";
import { startRedis, startRedisCluster, waitUntil } from "@orderstream/testkit";
import { printColumns, writeResult } from "./bench-support.mjs";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 20_000);
const IN_FLIGHT = 64;

async function rate(url, waitReplicas) {
  const conn = createRedis(url, { role: "command", name: "bench-wait", commandTimeoutMs: 5000 });
  await waitReady(conn);
  const store = new OrderStore(conn, {
    sharded: isClusterUrl(url),
    ...(waitReplicas ? { waitReplicas: { replicas: 1, timeoutMs: 1000 } } : {}),
  });
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < ORDERS) {
        const i = next++;
        await store.create({ userId: `user-${i % 1000}`, items: [{ productId: "sku", quantity: 1, price: 9.99 }] }).catch(() => failed++);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await closeRedis(conn);
  return { ordersPerS: Math.round(ORDERS / seconds), failed };
}

const result = {};
const primary = await startRedis();
const replica = await startRedis(["--replicaof", "127.0.0.1", String(primary.port)]);
try {
  const c = primary.client();
  await waitUntil(async () => String(await c.info("replication")).includes("state=online"), "replica online", 15_000, 50);
  c.disconnect();
  result.single = { off: await rate(primary.url, false), wait1: await rate(primary.url, true) };
} finally {
  await replica.stop();
  await primary.stop();
}
const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
try {
  result.cluster = { off: await rate(cluster.url, false), wait1: await rate(cluster.url, true) };
} finally {
  await cluster.stop();
}
const row = (name, r) => ({
  metric: name,
  cells: [r.off.ordersPerS, r.wait1.ordersPerS, `${(r.wait1.ordersPerS / r.off.ordersPerS).toFixed(2)}x`, r.off.failed + r.wait1.failed],
});
printColumns(
  `bench:wait (${ORDERS} creates, ${IN_FLIGHT} in flight, order store direct)`,
  ["off", "WAIT 1", "ratio", "failed"],
  [row("one node + 1 replica", result.single), row("3-master cluster, 1 replica each", result.cluster)],
);
console.log(`\nwrote ${writeResult("wait", { orders: ORDERS, inFlight: IN_FLIGHT, ...result })}`);
