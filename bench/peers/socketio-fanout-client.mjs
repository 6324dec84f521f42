#!/usr/bin/env node
// The Socket.IO variant of bench/fanout-client.mjs (same IPC protocol: ready/reset/report/exit),
// speaking raw Engine.IO v4 over WebSocket so the client stays as light as the raw one:
// open `ws://host/socket.io/?EIO=4&transport=websocket`, `40` to join the namespace, answer ping
// `2` with `3`, send `42["subscribe",{channels:[…]}]`, count `42["order.created",{…}]` events with
// their publish-to-socket latency (receive time - data.createdAt).
// Usage (forked): socketio-fanout-client.mjs <http://host:port> <sockets> <channel> <addr,addr,…>
import { createdAtOf, deliveryCounters, openCountedSockets, serveHarness } from "../fanout-client-control.mjs";

const [base, countArg, channel, addrArg] = process.argv.slice(2);
const subscribeFrame = `42${JSON.stringify(["subscribe", { channels: [channel] }])}`;
const c = deliveryCounters();

function onMessage(ws, s) {
  if (s.startsWith('42["order.created"')) c.delivered(createdAtOf(s));
  else if (s === "2") ws.send("3");
  else if (s.startsWith("40")) ws.send(subscribeFrame);
  else if (s.startsWith('42["subscribed"')) c.subscribed++;
  else if (s.startsWith("0{")) ws.send("40");
}

const sockets = await openCountedSockets({
  url: `${base.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`,
  count: Number(countArg),
  addresses: (addrArg ?? "127.0.0.1").split(","),
  c,
  onOpen: () => undefined,
  onMessage,
});
await serveHarness(c, () => {
  for (const ws of sockets) ws.terminate();
});
