#!/usr/bin/env node
// The gRPC variant of bench/fanout-client.mjs (same IPC protocol: ready/reset/report/exit): opens
// N SubscribeOrders streams (statuses [PENDING]) to order-api, one HTTP/2 connection per
// `streamsPerConn` streams (default 1: one connection per subscriber, like a WebSocket), counts a
// stream subscribed on its `subscribed: true` header and each Order with its publish-to-client
// latency (receive time - created_at).
// Usage (forked): grpc-fanout-client.mjs <host:port> <streams> <unused> <unused> [streamsPerConn]
import { credentials } from "@grpc/grpc-js";
import { OrderServiceClient } from "@orderstream/proto";
import hdr from "hdr-histogram-js";

const [target, countArg, , , perConnArg] = process.argv.slice(2);
const count = Number(countArg);
const perConn = Math.max(1, Number(perConnArg ?? 1));
const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
const clients = [];
const calls = [];
let received = 0;
let subscribed = 0;
let open = 0;
const closes = {};

function subscribe(client) {
  return new Promise((resolve) => {
    const call = client.subscribeOrders({ statuses: ["PENDING"], userId: "", sinceOffset: "" });
    open++;
    call.on("metadata", (md) => {
      if (md.get("subscribed")[0] === "true") subscribed++;
      resolve();
    });
    call.on("data", (order) => {
      received++;
      if (order.createdAt) hist.recordValue(Math.max(1, Date.now() - order.createdAt.getTime()));
    });
    call.on("error", (err) => {
      open--;
      closes[err.code] = (closes[err.code] ?? 0) + 1;
      resolve();
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
process.send?.({ type: "ready", open, subscribed });

process.on("message", (m) => {
  if (m.cmd === "reset") {
    received = 0;
    hist.reset();
    process.send?.({ type: "reset" });
  } else if (m.cmd === "report") {
    process.send?.({ type: "report", open, subscribed, received, closes, histogram: hdr.encodeIntoCompressedBase64(hist) });
  } else if (m.cmd === "exit") {
    for (const c of calls) c.cancel();
    for (const c of clients) c.close();
    process.exit(0);
  }
});
