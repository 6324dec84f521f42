#!/usr/bin/env node
// Peer "Socket.IO": Socket.IO 4.8 with @socket.io/redis-adapter, WebSocket transport only.
// A client emits `subscribe` {channels:[…]}; the server joins the socket to one room per channel,
// takes one Redis SUBSCRIBE on the channel's pub/sub name (pubsubChannel) (first subscriber), and answers `subscribed`.
// Each bus frame is parsed once and broadcast to the room as event "order.created".
// SOCKETIO_BROADCAST picks the broadcast path:
//   local   (default) io.local.to(room).emit — every node relays the bus to its own sockets, as a
//           multi-node deployment reading the bus must (a cluster-wide emit from every node would
//           duplicate); the adapter is attached but carries nothing. Socket.IO's cheapest path.
//   adapter io.to(room).emit — also hands each broadcast to the redis adapter, which encodes it
//           (msgpack) and PUBLISHes it to the other nodes: the cost of a cluster-wide emit.
// Usage: REDIS_URL=… PORT=… node bench/peers/socketio-server.mjs
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Partitioning, channelOfPubsub, channelStreams, publicChannel, pubsubChannel } from "@orderstream/bus";
import { Redis } from "ioredis";
import { Server } from "socket.io";

// The all-orders channels are carried on one Redis channel per partition: subscribe to them all.
const partitions = new Partitioning(Number(process.env.PARTITIONS ?? 12));
const redisChannels = (ch) => channelStreams(ch, partitions).map(pubsubChannel);

const port = Number(process.env.PORT ?? 9103);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const mode = process.env.SOCKETIO_BROADCAST ?? "local";
if (mode !== "local" && mode !== "adapter") throw new Error(`SOCKETIO_BROADCAST must be local or adapter, got ${mode}`);
const pub = new Redis(redisUrl);
const subAdapter = pub.duplicate();
const bus = new Redis(redisUrl);
const http = createServer();
const io = new Server(http, { transports: ["websocket"], perMessageDeflate: false, maxHttpBufferSize: 64 * 1024 });
io.adapter(createAdapter(pub, subAdapter));
const listening = new Set();

bus.on("message", (redisChannel, frame) => {
  const channel = channelOfPubsub(redisChannel);
  if (channel === undefined) return;
  const room = publicChannel(channel);
  const data = JSON.parse(frame);
  (mode === "local" ? io.local : io).to(room).emit(data.type, data);
});

io.on("connection", (socket) => {
  socket.on("subscribe", (req) => {
    const channels = Array.isArray(req?.channels) ? req.channels.filter((c) => typeof c === "string") : [];
    for (const ch of channels) {
      void socket.join(ch);
      if (!listening.has(ch)) {
        listening.add(ch);
        void bus.subscribe(...redisChannels(ch));
      }
    }
    socket.emit("subscribed", { channels });
  });
});

http.listen(port, "127.0.0.1", () => console.log(JSON.stringify({ msg: "ready", port, mode })));
