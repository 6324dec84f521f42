#!/usr/bin/env node
// The Socket.IO variant of bench/fanout-client.mjs (same IPC protocol: ready/reset/report/exit),
// speaking raw Engine.IO v4 over WebSocket so the client stays as light as the raw one:
// open `ws://host/socket.io/?EIO=4&transport=websocket`, `40` to join the namespace, answer ping
// `2` with `3`, send `42["subscribe",{channels:[…]}]`, count `42["order.created",{…}]` events with
// their publish-to-socket latency (receive time - data.createdAt).
// Usage (forked): socketio-fanout-client.mjs <http://host:port> <sockets> <channel> <addr,addr,…>
import hdr from "hdr-histogram-js";
import WebSocket from "ws";

const [base, countArg, channel, addrArg] = process.argv.slice(2);
const url = `${base.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
const count = Number(countArg);
const addresses = (addrArg ?? "127.0.0.1").split(",");
const subscribeFrame = `42${JSON.stringify(["subscribe", { channels: [channel] }])}`;
const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
const sockets = [];
let received = 0;
let subscribed = 0;
let open = 0;
const closes = {};

function onMessage(ws, data) {
  const s = data.toString();
  if (s.startsWith('42["order.created"')) {
    received++;
    const i = s.indexOf('"createdAt":"');
    if (i > 0) hist.recordValue(Math.max(1, Date.now() - Date.parse(s.slice(i + 13, i + 37))));
  } else if (s === "2") ws.send("3");
  else if (s.startsWith("40")) ws.send(subscribeFrame);
  else if (s.startsWith('42["subscribed"')) subscribed++;
  else if (s.startsWith("0{")) ws.send("40");
}

function connect(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress: addresses[i % addresses.length], perMessageDeflate: false });
    ws.on("open", () => {
      open++;
      resolve();
    });
    ws.on("message", (d) => onMessage(ws, d));
    ws.on("error", () => resolve());
    ws.on("close", (code) => {
      open--;
      closes[code] = (closes[code] ?? 0) + 1;
    });
    sockets.push(ws);
  });
}

const BATCH = 250;
for (let i = 0; i < count; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => connect(i + k)));
}
const deadline = Date.now() + 30_000;
while (subscribed < open && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
process.send?.({ type: "ready", open, subscribed });

process.on("message", (m) => {
  if (m.cmd === "reset") {
    received = 0;
    hist.reset();
    process.send?.({ type: "reset" });
  } else if (m.cmd === "report") {
    process.send?.({ type: "report", open, subscribed, received, closes, histogram: hdr.encodeIntoCompressedBase64(hist) });
  } else if (m.cmd === "exit") {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
