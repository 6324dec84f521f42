#!/usr/bin/env node
// A client process of bench/compression-bench.mjs: opens N WebSocket connections (offering
// permessage-deflate or not), subscribes each to orders.created and orders.status, and counts
// deliveries, the bytes their TCP sockets read (frames as they crossed the wire, after deflate) and
// the JSON bytes they carried (after inflate); publish-to-socket latency from `order.created`'s
// `data.createdAt`. Driven over IPC like bench/fanout-client.mjs (reset / report / exit).
// Usage (forked): compression-client.mjs <url> <sockets> <channel> <addr,addr,…> deflate|plain
import { createdAtOf, deliveryCounters, openCountedSockets, serveHarness } from "./fanout-client-control.mjs";

const [url, countArg, , addrArg, offer] = process.argv.slice(2);
const subscribeFrame = JSON.stringify({ type: "subscribe", channels: ["orders.created", "orders.status"] });
const c = deliveryCounters();
/** Bytes of the event frames' text (what the server would send uncompressed), since the last reset. */
let jsonBytes = 0;
/** Sockets whose server answered with permessage-deflate. */
let deflating = 0;
const sockets = await openCountedSockets({
  url,
  count: Number(countArg),
  addresses: (addrArg ?? "127.0.0.1").split(","),
  c,
  perMessageDeflate: offer === "deflate",
  onOpen: (ws) => {
    if (ws.extensions.includes("permessage-deflate")) deflating++;
    ws.send(subscribeFrame);
  },
  onMessage: (_ws, s) => {
    if (s.startsWith('{"type":"order.created"')) {
      jsonBytes += Buffer.byteLength(s);
      c.delivered(createdAtOf(s));
    } else if (s.startsWith('{"type":"order.status"')) {
      jsonBytes += Buffer.byteLength(s);
      c.received++;
    } else if (s.startsWith('{"type":"subscribed"')) c.subscribed++;
  },
});
/** The TCP bytes every socket has read so far (ws keeps the net.Socket as `_socket`). */
/** @param {any} ws */
const bytesReadOf = (ws) => ws._socket?.bytesRead ?? 0;
const wireBytes = () => sockets.reduce((a, ws) => a + bytesReadOf(ws), 0);
let wireAtReset = wireBytes();
await serveHarness(
  c,
  () => {
    for (const ws of sockets) ws.terminate();
  },
  30_000,
  {
    reset: () => {
      wireAtReset = wireBytes();
      jsonBytes = 0;
    },
    report: () => ({ wireBytes: wireBytes() - wireAtReset, jsonBytes, deflating }),
  },
);
