#!/usr/bin/env node
// The Socket.IO variant of bench/fanout-client.mjs (same IPC protocol: ready/reset/report/exit),
// speaking raw Engine.IO v4 over WebSocket so the client stays as light as the raw one:
// open `ws://host/socket.io/?EIO=4&transport=websocket`, `40` to join the namespace, answer ping
// `2` with `3`, send `42["subscribe",{channels:[…]}]`, count `42["order.created",{…}]` events with
// their publish-to-socket latency (receive time - data.createdAt).
// Usage (forked): socketio-fanout-client.mjs <http://host:port> <sockets> <channel> <addr,addr,…>
import WebSocket from "ws";
import { createdAtOf, deliveryCounters, openInBatches, serveHarness } from "../fanout-client-control.mjs";

const [base, countArg, channel, addrArg] = process.argv.slice(2);
const url = `${base.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
const addresses = (addrArg ?? "127.0.0.1").split(",");
const subscribeFrame = `42${JSON.stringify(["subscribe", { channels: [channel] }])}`;
const c = deliveryCounters();
const sockets = [];

function onMessage(ws, data) {
  const s = data.toString();
  if (s.startsWith('42["order.created"')) c.delivered(createdAtOf(s));
  else if (s === "2") ws.send("3");
  else if (s.startsWith("40")) ws.send(subscribeFrame);
  else if (s.startsWith('42["subscribed"')) c.subscribed++;
  else if (s.startsWith("0{")) ws.send("40");
}

function connect(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress: addresses[i % addresses.length], perMessageDeflate: false, handshakeTimeout: 10_000 });
    let opened = false;
    ws.on("open", () => {
      opened = true;
      c.open++;
      resolve();
    });
    ws.on("message", (d) => onMessage(ws, d));
    ws.on("error", () => resolve());
    ws.on("close", (code) => {
      if (opened) c.open--;
      c.closed(code);
    });
    sockets.push(ws);
  });
}

await openInBatches(Number(countArg), 250, connect);
await serveHarness(c, () => {
  for (const ws of sockets) ws.terminate();
});
