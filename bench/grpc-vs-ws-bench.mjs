#!/usr/bin/env node
// bench:grpc-vs-ws — the same order.created events to N gRPC SubscribeOrders streams (order-api)
// and to N WebSocket sockets (edge), N in GRPC_WS_SUBSCRIBERS (1000,10000). Each server runs alone
// on its own fresh redis-server, pinned to core 0; client processes on core 1. Per server and N:
//   memory: server RSS growth per subscriber once all N are subscribed;
//   throughput: target deliveries/s raised through GRPC_WS_DELIVERIES (event rate = target / N)
//     until any loss or p99 > 1 s → max deliveries/s (p99 <= 100 ms, no loss) and no-loss deliveries/s;
//   latency: p50/p99 at GRPC_WS_FIXED_DELIVERIES (10,000) deliveries/s for GRPC_WS_FIXED_S (8) s;
//   wire bytes per event: WebSocket = frame payload + frame header; gRPC = protobuf Order + 5-byte
//     gRPC message header + 9-byte HTTP/2 DATA frame header (computed from one captured event).
// Prints a table, writes bench/results/grpc-vs-ws-*.json.
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { Order, OrderServiceClient } from "@orderstream/proto";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import WebSocket from "ws";
import { ROOT, machine, sleep, writeResult } from "./bench-support.mjs";
import { phase, rampUp, rssBytes, startClients, startPinned, stopClients } from "./fanout-harness.mjs";

const SIZES = (process.env.GRPC_WS_SUBSCRIBERS ?? "1000,10000").split(",").map(Number);
const DELIVERIES = (process.env.GRPC_WS_DELIVERIES ?? "5000,10000,25000,50000,100000,200000,400000").split(",").map(Number);
const STEP_S = Number(process.env.GRPC_WS_STEP_S ?? 3);
const FIXED_DELIVERIES = Number(process.env.GRPC_WS_FIXED_DELIVERIES ?? 10_000);
const FIXED_S = Number(process.env.GRPC_WS_FIXED_S ?? 8);
const GRPC_STREAMS_PER_CONN = Number(process.env.GRPC_WS_STREAMS_PER_CONN ?? 1);

const SERVERS = {
  websocket: {
    start: (port, redisUrl) => startPinned("edge", serviceEntry("edge"), {
      REDIS_URL: redisUrl, EDGE_HOST: "127.0.0.1", EDGE_PORT: String(port), AUTH_JWT_SECRET: "bench",
      ANONYMOUS_ALL_ORDERS: "true", MAX_CONNECTIONS: "200000", LOG_LEVEL: "info", ORDER_API_URL: "127.0.0.1:1",
      RATE_LIMIT_PER_S: "1000", RATE_LIMIT_BURST: "1000",
    }),
    clients: (port, n) => startClients(join(ROOT, "bench/fanout-client.mjs"), `ws://127.0.0.1:${port}/ws`, n, "orders.created"),
    wireBytes: wsWireBytes,
  },
  grpc: {
    start: (port, redisUrl) => startPinned("order-api", serviceEntry("order-api"), { REDIS_URL: redisUrl, GRPC_HOST: "127.0.0.1", GRPC_PORT: String(port), METRICS_PORT: "0", LOG_LEVEL: "info" }),
    clients: (port, n) => startClients(join(ROOT, "bench/peers/grpc-fanout-client.mjs"), `127.0.0.1:${port}`, n, "-", { perClient: 5000, extraArgs: [String(GRPC_STREAMS_PER_CONN)] }),
    wireBytes: grpcWireBytes,
  },
};

/** Bytes of one order.created event on a WebSocket: server frames are unmasked, header 2/4/10 bytes. */
async function wsWireBytes(port, store) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
  const frame = await new Promise((resolve, reject) => {
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", channels: ["orders.created"] })));
    ws.on("message", (d) => {
      const s = d.toString();
      if (s.startsWith('{"type":"subscribed"')) void store.create({ userId: "bench-0", items: [{ productId: "sku", quantity: 1, price: 1 }] });
      if (s.startsWith('{"type":"order.created"')) resolve(d);
    });
    ws.on("error", reject);
  });
  ws.close();
  const header = frame.length < 126 ? 2 : frame.length < 65536 ? 4 : 10;
  return { payloadBytes: frame.length, frameHeaderBytes: header, totalBytes: frame.length + header };
}

/** Bytes of one Order on a gRPC stream: protobuf + 5-byte length prefix + 9-byte HTTP/2 DATA header. */
async function grpcWireBytes(port, store) {
  const client = new OrderServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = client.subscribeOrders({ statuses: ["PENDING"], userId: "", sinceOffset: "" });
  const order = await new Promise((resolve, reject) => {
    call.on("metadata", () => void store.create({ userId: "bench-0", items: [{ productId: "sku", quantity: 1, price: 1 }] }));
    call.on("data", resolve);
    call.on("error", reject);
  });
  call.cancel();
  client.close();
  const payload = Order.encode(order).finish().length;
  return { payloadBytes: payload, frameHeaderBytes: 5 + 9, totalBytes: payload + 14 };
}

async function measure(kind, n) {
  const redis = await startRedis();
  const cmd = createRedis(redis.url, { role: "command", name: "bench" });
  await waitReady(cmd);
  const store = new OrderStore(cmd);
  const port = await freePort();
  const server = SERVERS[kind].start(port, redis.url);
  try {
    await server.ready;
    await sleep(500);
    const wire = await SERVERS[kind].wireBytes(port, store);
    await sleep(300);
    const before = rssBytes(server.proc.pid);
    const clients = SERVERS[kind].clients(port, n);
    try {
      const ready = await Promise.all(clients.map((c) => c.ready));
      const subscribed = ready.reduce((a, r) => a + r.subscribed, 0);
      await sleep(2000);
      const after = rssBytes(server.proc.pid);
      const memory = { subscribers: subscribed, rssBeforeBytes: before, rssAfterBytes: after, bytesPerSubscriber: Math.round((after - before) / Math.max(1, subscribed)) };
      console.log(`${kind} N=${n}: ${subscribed} subscribed, ${memory.bytesPerSubscriber} B/subscriber, ${wire.totalBytes} B/event on the wire`);
      const ctx = { clients, subscribed, store, serverPid: server.proc.pid };
      // The fixed-rate phase first: a ramp step that falls behind leaves a backlog behind it.
      const fixed = await phase({ ...ctx, rate: FIXED_DELIVERIES / n, seconds: FIXED_S, settleMs: 2000 });
      console.log(`  ${kind} N=${n} fixed ${FIXED_DELIVERIES} deliveries/s: p50 ${fixed.p50Ms} ms, p99 ${fixed.p99Ms} ms, lost ${fixed.lost}, ${fixed.serverCpuMsPer100k} server cpu ms / 100k`);
      const ramp = await rampUp(`${kind} N=${n}`, ctx, DELIVERIES.map((d) => d / n), STEP_S);
      return { subscribers: subscribed, memory, wire, ramp, fixed };
    } finally {
      await stopClients(clients);
    }
  } finally {
    await server.stop();
    await closeRedis(cmd);
    await redis.stop();
  }
}

const results = [];
for (const n of SIZES) for (const kind of ["grpc", "websocket"]) results.push({ kind, n, ...(await measure(kind, n)) });

const cols = ["transport", "N", "max deliv/s", "no-loss deliv/s", "p99@max", "srv/cli cpu@max", `p50/p99 ms @${FIXED_DELIVERIES}/s`, "cpu ms/100k", "B/subscriber", "wire B/event"];
const rows = results.map((r) => {
  const b = r.ramp.best;
  return [r.kind, r.n, r.ramp.maxDeliveriesPerS, r.ramp.maxNoLossDeliveriesPerS, b ? b.p99Ms : "-", b ? `${b.serverCpuPct}% / ${b.clientCpuPct}%` : "-",
    `${r.fixed.p50Ms} / ${r.fixed.p99Ms}${r.fixed.lost ? ` (lost ${r.fixed.lost})` : ""}`, r.fixed.serverCpuMsPer100k, r.memory.bytesPerSubscriber, r.wire.totalBytes];
});
const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => `| ${r.map((v, i) => String(v).padEnd(widths[i])).join(" | ")} |`;
console.log(`\nbench:grpc-vs-ws (server core 0, clients core 1, gRPC ${GRPC_STREAMS_PER_CONN} stream(s)/connection, ${JSON.stringify(machine())})`);
console.log(line(cols));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
console.log(`\nwrote ${writeResult("grpc-vs-ws", { sizes: SIZES, deliveries: DELIVERIES, stepS: STEP_S, fixedDeliveries: FIXED_DELIVERIES, fixedS: FIXED_S, grpcStreamsPerConn: GRPC_STREAMS_PER_CONN, results })}`);
