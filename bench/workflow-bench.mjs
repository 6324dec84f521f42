#!/usr/bin/env node
// bench:workflow — processor transitions/s with 2 processor processes draining the same queued
// orders, per workflow and PROCESSOR_CONCURRENCY: the default workflow (the demo timeline, delays
// of 1 ms) against a workflow whose every step awaits a 5 ms async call (bench/workflows/async-5ms.mjs).
// Each row on a fresh redis-server: BENCH_ORDERS (5,000) orders stored and queued as order-api
// does (one job per batch of 100), then both processors start and drain them. Writes
// bench/results/workflow-*.json.
// Usage: npm run build && node bench/workflow-bench.mjs
import { join } from "node:path";
import { OrderStore, addBatchJobs, closeRedis, createOrderQueues, createRedis, waitReady } from "@orderstream/bus";
import { startRedis } from "@orderstream/testkit";
import { ROOT, printColumns, writeResult } from "./bench-support.mjs";
import { drainWithProcessors } from "./processor-drain.mjs";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 5000);
const ROWS = [
  { workflow: "default (demo timeline)", env: {}, concurrency: 50 },
  { workflow: "default (demo timeline)", env: {}, concurrency: 100 },
  { workflow: "async 5 ms per step", env: { PROCESSOR_WORKFLOW: join(ROOT, "bench/workflows/async-5ms.mjs") }, concurrency: 50 },
  { workflow: "async 5 ms per step", env: { PROCESSOR_WORKFLOW: join(ROOT, "bench/workflows/async-5ms.mjs") }, concurrency: 200 },
];

/** Stores ORDERS orders (1,000 users) and queues their jobs as order-api does. */
async function seed(url) {
  const conn = createRedis(url, { role: "command", name: "bench-seed" });
  const bull = createRedis(url, { role: "bullmq", name: "bench-queue" });
  await Promise.all([waitReady(conn), waitReady(bull)]);
  const batches = [];
  const store = new OrderStore(conn, { onBatchStored: (b) => batches.push(b) });
  const reqs = Array.from({ length: ORDERS }, (_, i) => ({
    userId: `user-${i % 1000}`,
    items: [{ productId: "sku", quantity: 1, price: 9.99 }],
  }));
  await store.createMany(reqs);
  const queues = createOrderQueues(bull, store.partitions, () => undefined);
  await addBatchJobs(queues, batches);
  await Promise.all(queues.map((q) => q.close()));
  await closeRedis(conn);
  await closeRedis(bull);
}

const results = [];
for (const row of ROWS) {
  const redis = await startRedis();
  const children = [];
  try {
    await seed(redis.url);
    const r = await drainWithProcessors(redis.url, {
      orders: ORDERS,
      timeoutMs: 120_000,
      children,
      env: { PROCESSOR_CONCURRENCY: String(row.concurrency), ...row.env },
    });
    results.push({ ...row, ...r, warnings: r.warnings.slice(-3) });
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await redis.stop();
  }
}
printColumns(
  `bench:workflow (${ORDERS} orders, 2 processors, transitions counted from their metrics)`,
  ["transitions/s", "done/expected"],
  results.map((r) => ({
    metric: `${r.workflow}, PROCESSOR_CONCURRENCY=${r.concurrency}`,
    cells: [r.transitionsPerS.toLocaleString("en-US"), `${r.transitions}/${r.expected}`],
    goal: r.workflow.startsWith("default") ? ">= 10000" : ">= 5000",
    ok: r.workflow.startsWith("default") ? r.transitionsPerS >= 10_000 : r.transitionsPerS >= 5000,
  })),
);
console.log(`\nwrote ${writeResult("workflow", { orders: ORDERS, rows: results })}`);
