#!/usr/bin/env node
// Peer "ws-naive": the common hand-rolled fan-out server, `ws` + ioredis. One Redis SUBSCRIBE per
// channel (taken on the first subscriber); on each Redis message it loops over that channel's
// sockets and calls ws.send(frame) on each. Same subscribe protocol as the edge:
// {"type":"subscribe","channels":[…]} → {"type":"subscribed","channels":[…]}.
// Usage: REDIS_URL=… PORT=… node bench/peers/ws-naive-server.mjs
import { Partitioning, channelOfPubsub, channelStreams, publicChannel, pubsubChannel } from "@orderstream/bus";
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";

// The all-orders channels are carried on one Redis channel per partition: subscribe to them all.
const partitions = new Partitioning(Number(process.env.PARTITIONS ?? 12));
const redisChannels = (ch) => channelStreams(ch, partitions).map(pubsubChannel);

const port = Number(process.env.PORT ?? 9102);
const sub = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
/** channel name → sockets subscribed to it */
const rooms = new Map();
const wss = new WebSocketServer({ host: "127.0.0.1", port, path: "/ws", perMessageDeflate: false, maxPayload: 64 * 1024 });

sub.on("message", (redisChannel, frame) => {
  const channel = channelOfPubsub(redisChannel);
  const sockets = channel === undefined ? undefined : rooms.get(publicChannel(channel));
  if (!sockets) return;
  for (const ws of sockets) if (ws.readyState === 1) ws.send(frame);
});

wss.on("connection", (ws) => {
  const mine = new Set();
  ws.on("message", (msg) => {
    let req;
    try {
      req = JSON.parse(msg.toString());
    } catch {
      return ws.close(1003, "bad json");
    }
    if (req.type !== "subscribe" || !Array.isArray(req.channels)) return;
    for (const ch of req.channels) {
      let sockets = rooms.get(ch);
      if (!sockets) {
        rooms.set(ch, (sockets = new Set()));
        void sub.subscribe(...redisChannels(ch));
      }
      sockets.add(ws);
      mine.add(ch);
    }
    ws.send(JSON.stringify({ type: "subscribed", channels: req.channels }));
  });
  ws.on("close", () => {
    for (const ch of mine) rooms.get(ch)?.delete(ws);
  });
  ws.on("error", () => ws.terminate());
});

wss.on("listening", () => console.log(JSON.stringify({ msg: "ready", port })));
