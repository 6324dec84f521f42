#!/usr/bin/env node
// The ceiling for the edge benchmarks: the least a uWS relay can do. One Redis subscription per
// channel (taken on the first subscriber), app.publish of the frame bytes as they arrive. No
// auth, no limits, no history, no metrics. Usage: REDIS_URL=… PORT=… node bench/minimal-relay.mjs
import { nativeUws } from "../services/edge/dist/native-uws.js";
import { Partitioning, channelOfPubsub, channelStreams, publicChannel, pubsubChannel } from "@orderstream/bus";
import { Redis } from "ioredis";

// The all-orders channels are carried on one Redis channel per partition: subscribe to them all.
const partitions = new Partitioning(Number(process.env.PARTITIONS ?? 12));
const redisChannels = (ch) => channelStreams(ch, partitions).map(pubsubChannel);

const port = Number(process.env.PORT ?? 9101);
const sub = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const subscribed = new Set();
const app = nativeUws().App();
sub.on("message", (redisChannel, frame) => {
  const channel = channelOfPubsub(redisChannel);
  if (channel !== undefined) app.publish(publicChannel(channel), frame, false);
});
app.ws("/ws", {
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 1024 * 1024,
  idleTimeout: 120,
  message: (ws, msg) => {
    const req = JSON.parse(Buffer.from(msg).toString());
    if (req.type !== "subscribe" || !Array.isArray(req.channels)) return;
    for (const ch of req.channels) {
      ws.subscribe(ch);
      if (!subscribed.has(ch)) {
        subscribed.add(ch);
        void sub.subscribe(...redisChannels(ch));
      }
    }
    ws.send(JSON.stringify({ type: "subscribed", channels: req.channels }));
  },
});
app.listen("127.0.0.1", port, (token) => {
  if (!token) throw new Error(`cannot listen on ${port}`);
  console.log(JSON.stringify({ msg: "ready", port }));
});
