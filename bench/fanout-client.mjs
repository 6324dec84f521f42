#!/usr/bin/env node
// A benchmark client process: opens N WebSocket connections to one URL (spread over local source
// addresses), subscribes each to one channel, and counts `order.created` deliveries with their
// publish-to-socket latency (receive time - data.createdAt). The parent drives it over IPC:
// {cmd:"reset"} zeroes the counters, {cmd:"report"} answers with them, {cmd:"exit"} closes all.
// Usage (forked): fanout-client.mjs <url> <sockets> <channel> <addr,addr,…>
import hdr from "hdr-histogram-js";
import WebSocket from "ws";

const [url, countArg, channel, addrArg] = process.argv.slice(2);
const count = Number(countArg);
const addresses = (addrArg ?? "127.0.0.1").split(",");
const subscribeFrame = JSON.stringify({ type: "subscribe", channels: [channel] });
const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
const sockets = [];
let received = 0;
let subscribed = 0;
let open = 0;
const closes = {};

function onMessage(data) {
  const s = data.toString();
  if (s.startsWith('{"type":"order.created"')) {
    received++;
    const i = s.indexOf('"createdAt":"');
    if (i > 0) hist.recordValue(Math.max(1, Date.now() - Date.parse(s.slice(i + 13, i + 37))));
  } else if (s.startsWith('{"type":"subscribed"')) subscribed++;
}

function connect(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress: addresses[i % addresses.length], perMessageDeflate: false, handshakeTimeout: 10_000 });
    ws.on("open", () => {
      open++;
      ws.send(subscribeFrame);
      resolve();
    });
    ws.on("message", onMessage);
    ws.on("error", () => resolve());
    let opened = false;
    ws.on("open", () => (opened = true));
    ws.on("close", (code) => {
      if (opened) open--;
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
    process.send?.({
      type: "report",
      open,
      subscribed,
      received,
      closes,
      histogram: hdr.encodeIntoCompressedBase64(hist),
    });
  } else if (m.cmd === "exit") {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
