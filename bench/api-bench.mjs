#!/usr/bin/env node
// bench:api — order path throughput on this machine, in one run:
//   1. CreateOrder orders/s and p50/p99 at concurrency 64 (no processors running),
//   2. BulkCreateOrders orders/s,
//   3. processor transitions/s with 2 workers draining the queue those phases filled,
//   4. redis-benchmark pipelined throughput on the same Redis as the ceiling.
// Prints a table and writes bench/results/api-*.json. Sizes: BENCH_SECONDS (10), BENCH_BULK (50000).
import { execFileSync } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { OrderServiceClient } from "@orderstream/proto";
import { freePort, startRedis, startService, serviceEntry } from "@orderstream/testkit";
import { Redis } from "ioredis";
import { latencyHistogram, printTable, sleep, writeResult } from "./bench-support.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BULK = Number(process.env.BENCH_BULK ?? 50_000);
const CONCURRENCY = 64;
const request = (i) => ({ userId: `user-${i % 1000}`, items: [{ productId: `sku-${i % 50}`, quantity: 1 + (i % 3), price: 9.99 }] });

const redis = await startRedis();
const port = await freePort();
const api = startService(serviceEntry("order-api"), { REDIS_URL: redis.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: String(port), LOG_LEVEL: "info" }, "order-api");
const children = [api];
const stopAll = async () => {
  await Promise.all(children.map((c) => c.stop("SIGTERM", 5000)));
  await redis.stop();
};
try {
  await api.waitFor(/"msg":"ready"/);
  // Retries off: grpc-js buffers every message of a client stream for retry, O(n²) in a long bulk stream.
  const client = new OrderServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.enable_retries": 0 });
  const create = (req) => new Promise((res, rej) => client.createOrder(req, (err, o) => (err ? rej(err) : res(o))));
  for (let i = 0; i < 500; i++) await create(request(i)); // warm-up

  // 1. unary at concurrency 64
  const lat = latencyHistogram();
  let created = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
    for (let i = w; performance.now() < end; i += CONCURRENCY) {
      const s = performance.now();
      try {
        await create(request(i));
        created++;
        lat.recordMs(performance.now() - s);
      } catch {
        errors++;
      }
    }
  }));
  const unaryRate = created / ((performance.now() - t0) / 1000);

  // 2. bulk: streams of BULK_STREAM orders, 4 at a time. (grpc-js, as a client, keeps a stream's
  // unsent messages in an array it re-slices per send: O(n²) on one huge stream, in the client.)
  const BULK_STREAM = 5000;
  const bulkStream = (from, count) => new Promise((res, rej) => {
    const call = client.bulkCreateOrders((err, r) => (err ? rej(err) : res(r)));
    for (let i = from; i < from + count; i++) call.write(request(i));
    call.end();
  });
  const b0 = performance.now();
  const bulk = { createdCount: 0 };
  for (let from = 0; from < BULK; from += 4 * BULK_STREAM) {
    const parts = [0, 1, 2, 3].map((k) => from + k * BULK_STREAM).filter((f) => f < BULK);
    const rs = await Promise.all(parts.map((f) => bulkStream(f, Math.min(BULK_STREAM, BULK - f))));
    for (const r of rs) bulk.createdCount += r.createdCount;
  }
  const bulkRate = bulk.createdCount / ((performance.now() - b0) / 1000);
  client.close();

  // 3. processors drain the queue: 4 transitions per order
  const cmd = new Redis(redis.url);
  const seq = async () => Number((await cmd.hget("os:meta:{orders.status}", "s")) ?? 0);
  const before = await seq();
  const totalOrders = created + 500 + bulk.createdCount;
  const target = totalOrders * 4;
  for (let i = 0; i < 2; i++) {
    const p = startService(serviceEntry("processor"), {
      REDIS_URL: redis.url, LOG_LEVEL: "info", HEALTH_PORT: String(await freePort()),
      SHIP_DELAY_MS: "1", DELIVER_DELAY_MS: "1", PROCESSOR_CONCURRENCY: "100",
    }, `processor-${i}`);
    children.push(p);
  }
  await Promise.all(children.slice(1).map((p) => p.waitFor(/"msg":"ready"/)));
  const p0 = performance.now();
  const pEnd = p0 + Math.max(60_000, SECONDS * 6000);
  let done = before;
  while (performance.now() < pEnd && done - before < target) {
    await sleep(250);
    done = await seq();
  }
  const transitions = done - before;
  const transitionRate = transitions / ((performance.now() - p0) / 1000);
  cmd.disconnect();

  // 4. the ceiling: redis-benchmark, pipelined, on the same server
  const rb = execFileSync("redis-benchmark", ["-p", String(redis.port), "-P", "16", "-t", "set,get", "-n", "200000", "-q"], { encoding: "utf8" });
  const rbRates = Object.fromEntries([...rb.matchAll(/(\w+): ([\d.]+) requests per second/g)].map((m) => [m[1], Number(m[2])]));

  const result = {
    unary: { concurrency: CONCURRENCY, seconds: SECONDS, ordersPerS: Math.round(unaryRate), errors, latency: lat.summary() },
    bulk: { orders: bulk.createdCount, ordersPerS: Math.round(bulkRate) },
    processor: { workers: 2, transitions, expected: target, transitionsPerS: Math.round(transitionRate) },
    redisBenchmark: rbRates,
  };
  printTable("bench:api (2 cores; order-api, processors, Redis and this client share them)", [
    { metric: "CreateOrder orders/s (c=64)", value: result.unary.ordersPerS, goal: ">= 5000", ok: result.unary.ordersPerS >= 5000 },
    { metric: "CreateOrder p50 ms", value: result.unary.latency.p50Ms.toFixed(2) },
    { metric: "CreateOrder p99 ms", value: result.unary.latency.p99Ms.toFixed(2), goal: "<= 20", ok: result.unary.latency.p99Ms <= 20 },
    { metric: "CreateOrder errors", value: errors },
    { metric: "BulkCreateOrders orders/s", value: result.bulk.ordersPerS, goal: ">= 20000", ok: result.bulk.ordersPerS >= 20000 },
    { metric: "processor transitions/s (2 workers)", value: result.processor.transitionsPerS, goal: ">= 5000", ok: result.processor.transitionsPerS >= 5000 },
    { metric: "processor transitions done/expected", value: `${transitions}/${target}` },
    { metric: "redis-benchmark SET -P 16 /s", value: rbRates.SET ?? "n/a" },
    { metric: "redis-benchmark GET -P 16 /s", value: rbRates.GET ?? "n/a" },
  ]);
  console.log(`\nwrote ${writeResult("api", result)}`);
} finally {
  await stopAll();
}
