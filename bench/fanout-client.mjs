#!/usr/bin/env node
// A benchmark client process: opens N WebSocket connections to one URL (spread over local source
// addresses), subscribes each to one channel, and counts `order.created` deliveries with their
// publish-to-socket latency (receive time - data.createdAt). The parent drives it over IPC:
// {cmd:"reset"} zeroes the counters, {cmd:"report"} answers with them, {cmd:"exit"} closes all.
// Usage (forked): fanout-client.mjs <url> <sockets> <channel> <addr,addr,…>
import WebSocket from "ws";
import { createdAtOf, deliveryCounters, openInBatches, serveHarness } from "./fanout-client-control.mjs";

const [url, countArg, channel, addrArg] = process.argv.slice(2);
const addresses = (addrArg ?? "127.0.0.1").split(",");
const subscribeFrame = JSON.stringify({ type: "subscribe", channels: [channel] });
const c = deliveryCounters();
const sockets = [];

function connect(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress: addresses[i % addresses.length], perMessageDeflate: false, handshakeTimeout: 10_000 });
    let opened = false;
    ws.on("open", () => {
      opened = true;
      c.open++;
      ws.send(subscribeFrame);
      resolve();
    });
    ws.on("message", (data) => {
      const s = data.toString();
      if (s.startsWith('{"type":"order.created"')) c.delivered(createdAtOf(s));
      else if (s.startsWith('{"type":"subscribed"')) c.subscribed++;
    });
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
