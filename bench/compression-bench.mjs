#!/usr/bin/env node
// bench:compression — permessage-deflate on the edge (EDGE_COMPRESSION) against plain JSON, the
// same order events, one run, cases side by side. Server pinned to core 0, client processes to core 1.
// Cases (BENCH_CASES, default off,shared,dedicated-4kb,shared-plain):
//   off            EDGE_COMPRESSION=off, the clients offer permessage-deflate (as browsers do): declined
//   shared         EDGE_COMPRESSION=shared (uWS's shared compressor, each frame deflated on its own)
//   dedicated-4kb  EDGE_COMPRESSION=dedicated-4kb (a 512-byte sliding window per socket, kept between
//                  frames); any dedicated-<n>kb works, e.g. dedicated-32kb (a 4 KiB window)
//   shared-plain   EDGE_COMPRESSION=shared, the clients do not offer it: what a client that cannot inflate costs
//   relay          the minimal uWS relay (bench/minimal-relay.mjs), plain: the reference
// Workload: BENCH_SOCKETS (2,000) sockets subscribed to orders.created and orders.status; through
// the real write path (OrderStore) BENCH_RATE (5) orders/s are created, each with 1–5 line items,
// and confirmed (one order.created + one order.status event each) for BENCH_SECONDS (10) s after a
// 2 s warm-up. Per case: bytes on the wire per delivery (the clients' TCP bytesRead: WebSocket
// headers + payload, deflated or not), JSON bytes per delivery, server CPU ms per 100k deliveries
// (utime+stime from /proc/<pid>/stat), p50/p99 publish-to-socket latency (order.created,
// receive time − data.createdAt), server RSS growth per socket once the sockets are open. A
// delivery not received 1.5 s after the last publish counts as "not delivered at the end".
// Prints a table and writes bench/results/compression-*.json.
import { join } from "node:path";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import hdr from "hdr-histogram-js";
import { ROOT, printColumns, sleep, writeResult } from "./bench-support.mjs";
import { cpuMs, groupCpuMs, groupRssBytes, startClients, startPinned, stopClients } from "./fanout-harness.mjs";

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2_000);
const RATE = Number(process.env.BENCH_RATE ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = 2;
const CASES = (process.env.BENCH_CASES ?? "off,shared,dedicated-4kb,shared-plain").split(",");
const CLIENT = join(ROOT, "bench/compression-client.mjs");

const edgeTarget = (compression, offer) => ({
  entry: serviceEntry("edge"),
  env: (port, redisUrl) => ({
    REDIS_URL: redisUrl,
    EDGE_HOST: "127.0.0.1",
    EDGE_PORT: String(port),
    AUTH_JWT_SECRET: "bench",
    ANONYMOUS_ALL_ORDERS: "true",
    MAX_CONNECTIONS: "200000",
    LOG_LEVEL: "info",
    ORDER_API_URL: "127.0.0.1:1",
    RATE_LIMIT_PER_S: "1000",
    RATE_LIMIT_BURST: "1000",
    EDGE_COMPRESSION: compression,
  }),
  offer,
});
/**
 * A case by name: `relay`, `<mode>` (an EDGE_COMPRESSION value, the clients offering deflate) or
 * `<mode>-plain` (the clients not offering it).
 * @param {string} name
 * @returns {{ entry: string, env: (port: number, redisUrl: string) => Record<string, string>, offer: "deflate" | "plain" }}
 */
function target(name) {
  if (name === "relay")
    return {
      entry: join(ROOT, "bench/minimal-relay.mjs"),
      env: (port, redisUrl) => ({ REDIS_URL: redisUrl, PORT: String(port) }),
      offer: "plain",
    };
  const mode = name.replace(/-plain$/, "");
  if (!/^(off|shared|dedicated-\d+kb)$/.test(mode))
    throw new Error(`unknown case ${name}: relay, off, shared, dedicated-<n>kb, each but relay optionally with -plain`);
  return edgeTarget(mode, name.endsWith("-plain") ? "plain" : "deflate");
}

/** A deterministic source of order shapes, so that every case gets the same items. */
function orderShapes(seed = 42) {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  const colors = ["blk", "wht", "red", "nvy", "grn"];
  const sizes = ["xs", "s", "m", "l", "xl"];
  return (i) => ({
    userId: `user-${1000 + Math.floor(next() * 5000)}`,
    items: Array.from({ length: 1 + Math.floor(next() * 5) }, () => ({
      productId: `sku-${10000 + Math.floor(next() * 90000)}-${colors[Math.floor(next() * 5)]}-${sizes[Math.floor(next() * 5)]}`,
      quantity: 1 + Math.floor(next() * 4),
      price: Math.round((2 + next() * 198) * 100) / 100,
    })),
    i,
  });
}

/** Creates and confirms `rate` orders/s for `seconds` through the real write path; returns the events published. */
async function publishOrders(store, shapes, rate, seconds) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    const batch = [];
    for (; n < due; n++) {
      const { userId, items } = shapes(n);
      batch.push(store.create({ userId, items }).then((r) => store.transition(r.order.id, "confirm")));
    }
    await Promise.all(batch);
    await sleep(5);
  }
  return n * 2;
}

async function measure(name, redisUrl, store) {
  const t = target(name);
  const port = await freePort();
  const server = startPinned(name, t.entry, t.env(port, redisUrl), "0");
  let clients = [];
  try {
    await server.ready;
    await sleep(500);
    const pids = server.pids();
    const rss0 = groupRssBytes(pids);
    clients = startClients(CLIENT, `ws://127.0.0.1:${port}/ws`, SOCKETS, "-", { extraArgs: [t.offer] });
    const ready = await Promise.all(clients.map((c) => c.ready));
    const subscribed = ready.reduce((a, r) => a + r.subscribed, 0);
    await sleep(500);
    const rssPerSocket = Math.round((groupRssBytes(pids) - rss0) / Math.max(1, subscribed));
    const shapes = orderShapes();
    await publishOrders(store, shapes, RATE, WARMUP_S);
    await sleep(1000);
    await Promise.all(clients.map((c) => c.ask("reset")));
    const s0 = groupCpuMs(pids);
    const c0 = clients.reduce((a, c) => a + cpuMs(c.proc.pid), 0);
    const w0 = performance.now();
    const events = await publishOrders(store, shapes, RATE, SECONDS);
    await sleep(1500);
    const wallMs = performance.now() - w0;
    const serverCpuMs = groupCpuMs(pids) - s0;
    const clientCpuMs = clients.reduce((a, c) => a + cpuMs(c.proc.pid), 0) - c0;
    const reports = await Promise.all(clients.map((c) => c.ask("report")));
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
    for (const r of reports) h.add(hdr.decodeFromCompressedBase64(r.histogram));
    const sum = (k) => reports.reduce((a, r) => a + r[k], 0);
    const received = sum("received");
    const figures = {
      case: name,
      offer: t.offer,
      sockets: subscribed,
      deflating: sum("deflating"),
      events,
      expected: events * subscribed,
      received,
      lost: events * subscribed - received,
      wireBytesPerDelivery: received ? +(sum("wireBytes") / received).toFixed(1) : null,
      jsonBytesPerDelivery: received ? +(sum("jsonBytes") / received).toFixed(1) : null,
      serverCpuMsPer100k: received ? Math.round((serverCpuMs / received) * 100_000) : null,
      serverCpuPct: Math.round((serverCpuMs / wallMs) * 100),
      clientCpuPct: Math.round((clientCpuMs / wallMs) * 100),
      p50Ms: h.getValueAtPercentile(50),
      p99Ms: h.getValueAtPercentile(99),
      maxMs: h.maxValue,
      rssPerSocket,
      // Sockets still open at the report, and close codes seen: "lost" with all open = not delivered yet (a backlog).
      open: sum("open"),
      closes: reports.reduce((a, r) => {
        for (const [code, n] of Object.entries(r.closes)) a[code] = (a[code] ?? 0) + n;
        return a;
      }, {}),
    };
    console.log(`  ${name}: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await stopClients(clients);
    await server.stop();
  }
}

const redis = await startRedis();
const cmd = createRedis(redis.url, { role: "command", name: "bench" });
await waitReady(cmd);
const store = new OrderStore(cmd);
const results = [];
try {
  for (const name of CASES) {
    console.log(`${name}: ${SOCKETS} sockets, ${RATE} orders/s (created + confirmed) for ${SECONDS} s`);
    results.push(await measure(name, redis.url, store));
  }
} finally {
  await closeRedis(cmd);
  await redis.stop();
}

const base = results.find((r) => r.case === "off") ?? results[0];
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : "n/a");
printColumns(
  `bench:compression (server on core 0, clients on core 1; ${SOCKETS} sockets, ${RATE} orders/s = ${RATE * 2} events/s for ${SECONDS} s)`,
  results.map((r) => r.case),
  [
    { metric: "sockets negotiating deflate", cells: results.map((r) => `${r.deflating}/${r.sockets}`) },
    { metric: "wire bytes per delivery", cells: results.map((r) => r.wireBytesPerDelivery) },
    { metric: "JSON bytes per delivery", cells: results.map((r) => r.jsonBytesPerDelivery) },
    { metric: "wire bytes vs off", cells: results.map((r) => ratio(r.wireBytesPerDelivery, base?.wireBytesPerDelivery)) },
    { metric: "server cpu ms per 100k deliveries", cells: results.map((r) => r.serverCpuMsPer100k) },
    { metric: "server cpu vs off", cells: results.map((r) => ratio(r.serverCpuMsPer100k, base?.serverCpuMsPer100k)) },
    { metric: "server cpu % of a core", cells: results.map((r) => r.serverCpuPct) },
    { metric: "client cpu % of a core", cells: results.map((r) => r.clientCpuPct) },
    { metric: "p50 / p99 ms", cells: results.map((r) => `${r.p50Ms} / ${r.p99Ms}`) },
    { metric: "server RSS per socket (bytes)", cells: results.map((r) => r.rssPerSocket) },
    { metric: "deliveries (not delivered at the end)", cells: results.map((r) => `${r.received} (${r.lost})`) },
    { metric: "sockets open at the end", cells: results.map((r) => r.open) },
  ],
);
console.log(`\nwrote ${writeResult("compression", { sockets: SOCKETS, rate: RATE, seconds: SECONDS, cases: CASES, results })}`);
