#!/usr/bin/env node
// The gRPC variant of bench/fanout-client.mjs (same IPC protocol: ready/reset/report/exit): opens
// N SubscribeOrders streams (statuses [PENDING]) to order-api, one HTTP/2 connection per
// `streamsPerConn` streams (default 1: one connection per subscriber, like a WebSocket), counts a
// stream subscribed on its `subscribed: true` header and each Order with its publish-to-client
// latency (receive time - created_at).
// Usage (forked): grpc-fanout-client.mjs <host:port> <streams> <unused> <unused> [streamsPerConn]
import { credentials } from "@grpc/grpc-js";
import { OrderServiceClient } from "@orderstream/proto";
import { deliveryCounters, serveHarness } from "../fanout-client-control.mjs";

const [target, countArg, , , perConnArg] = process.argv.slice(2);
const count = Number(countArg);
const perConn = Math.max(1, Number(perConnArg ?? 1));
const c = deliveryCounters();
const clients = [];
const calls = [];

function subscribe(client) {
  return new Promise((resolve) => {
    const call = client.subscribeOrders({ statuses: ["PENDING"], userId: "", sinceOffset: "" });
    c.open++;
    call.on("metadata", (md) => {
      if (md.get("subscribed")[0] === "true") c.subscribed++;
      resolve(undefined);
    });
    call.on("data", (order) => c.delivered(order.createdAt ? order.createdAt.getTime() : Number.NaN));
    call.on("error", (err) => {
      c.open--;
      c.closed(err.code);
      resolve(undefined);
    });
    calls.push(call);
  });
}

const BATCH = 200;
for (let i = 0; i < count; i += BATCH) {
  const batch = [];
  for (let k = i; k < Math.min(count, i + BATCH); k++) {
    if (k % perConn === 0) clients.push(new OrderServiceClient(target, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }));
    batch.push(subscribe(clients.at(-1)));
  }
  await Promise.race([Promise.all(batch), new Promise((r) => setTimeout(r, 30_000))]);
}
await serveHarness(c, () => {
  for (const call of calls) call.cancel();
  for (const client of clients) client.close();
});
