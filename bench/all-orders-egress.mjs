#!/usr/bin/env node
// bench:all-orders — Redis egress of the all-orders channels on a 3-master Redis Cluster (one replica
// each). EDGES edge nodes (child processes) hold SOCKETS_PER_EDGE WebSocket subscribers of both
// orders.created and orders.status each, plus USER_SUBSCRIBERS sockets on one user channel each
// (user i on node i % EDGES). ORDERS orders then go through the write path's scripts (OrderStore,
// SPUBLISH: create, then confirm, process, ship, deliver: 5 events per order, each on one
// all-orders partition stream and on its user's channel). Per master, from before to after:
//   - SPUBLISH calls (INFO commandstats; a script's SPUBLISH counts on its own line in Redis 7);
//   - events per channel (the stream's sequence number in its meta hash) × the channel's sharded
//     subscribers (PUBSUB SHARDNUMSUB on the master owning its slot): the pub/sub messages it sent
//     to subscribers, checked against the edges' own count (orderstream_edge_events_in_total);
//   - bytes written to clients (INFO stats total_net_output_bytes minus total_net_repl_output_bytes:
//     every reply and push), against the exact bytes of those messages (RESP `smessage` pushes of
//     the stored frames), and the replication stream's bytes beside them;
//   - cluster_stats_messages_publishshard_sent (CLUSTER INFO): each SPUBLISH forwarded to the
//     shard's replicas over the cluster bus.
// Model: an event goes to the one partition stream of its order, on the master owning that
// partition, once per subscribed edge node: N messages per event, plus one per node subscribed to
// its user's channel; masters share it in proportion to the partitions they own (12 over 3: 4 each).
// Prints a table; writes bench/results/all-orders-egress-*.json.
//
// Env: EDGES (4), ORDERS (2000), SOCKETS_PER_EDGE (4), USERS (100), USER_SUBSCRIBERS (20),
// BATCH (250 orders per step), TIMEOUT_MS (120000).
import WebSocket from "ws";
import {
  ALL_ORDERS_CHANNELS,
  OrderStore,
  Partitioning,
  channelStreams,
  closeRedis,
  createRedis,
  historyKey,
  metaKey,
  pubsubChannel,
  waitReady,
} from "@orderstream/bus";
import { signToken, startLocalCluster } from "@orderstream/testkit";
import { printColumns, sleep, writeResult } from "./bench-support.mjs";
import { commandStats, round, waitQuiet } from "./redis-stats.mjs";

const env = (name, dflt) => (process.env[name] === undefined || process.env[name] === "" ? dflt : Number(process.env[name]));
const EDGES = env("EDGES", 4);
const ORDERS = env("ORDERS", 2000);
const SOCKETS_PER_EDGE = env("SOCKETS_PER_EDGE", 4);
const USERS = env("USERS", 100);
const USER_SUBSCRIBERS = Math.min(env("USER_SUBSCRIBERS", 20), USERS);
const BATCH = env("BATCH", 250);
const TIMEOUT_MS = env("TIMEOUT_MS", 120_000);
const EVENTS_PER_ORDER = 5;
/** @type {import("@orderstream/bus").TransitionRequest["action"][]} */
const ACTIONS = ["confirm", "process", "ship", "deliver"];
const partitions = new Partitioning();
const userChannel = (i) => `orders.user.u${i}`;

/** Bytes of one RESP2 `smessage` push of `frame` on Redis channel `channel`. */
function pushBytes(channel, frame) {
  const bulk = (s) => {
    const n = Buffer.byteLength(s);
    return 1 + String(n).length + 2 + n + 2;
  };
  return 4 + bulk("smessage") + bulk(channel) + bulk(frame);
}

/** One WebSocket subscriber: counts the event frames it gets; `subscribed` resolves on the edge's reply. */
function subscriber(url, channels, token) {
  const ws = new WebSocket(token ? `${url}?token=${token}` : url);
  /** @type {{ ws: WebSocket, events: number, errors: unknown[], subscribed?: Promise<unknown> }} */
  const s = { ws, events: 0, errors: [] };
  s.subscribed = new Promise((resolve, reject) => {
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", channels })));
    ws.on("message", (m) => {
      const f = JSON.parse(String(m));
      if (f.type === "subscribed") resolve(undefined);
      else if (f.type === "order.created" || f.type === "order.status") s.events++;
      else if (f.type === "error") s.errors.push(f.error?.code);
    });
    ws.on("error", reject);
    ws.on("close", (code) => reject(new Error(`socket closed ${code} before subscribed`)));
  });
  s.subscribed.catch(() => undefined);
  return s;
}

/** The sum of orderstream_edge_events_in_total of a node's /metrics. */
async function edgeEventsIn(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^orderstream_edge_events_in_total(?:\{[^}]*\})? ([\d.e+]+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

/** The readings of one master that the run takes deltas of. */
async function masterReading(conn) {
  const stats = await conn.info("stats");
  const field = (text, name) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
  const clusterInfo = String(await conn.cluster("INFO"));
  return {
    spublish: (await commandStats(conn)).spublish?.calls ?? 0,
    // Redis 7.0's total_net_output_bytes counts the replication stream too: split it off.
    netOutputBytes: field(stats, "total_net_output_bytes") - field(stats, "total_net_repl_output_bytes"),
    replOutputBytes: field(stats, "total_net_repl_output_bytes"),
    // Absent until the node forwarded its first SPUBLISH.
    publishShardSent: field(clusterInfo, "cluster_stats_messages_publishshard_sent") || 0,
  };
}

const cluster = await startLocalCluster({ redis: "cluster", edges: EDGES, processors: 0, api: false, env: { HISTORY_SIZE: "1000000" } });
const sockets = [];
let store;
let conn;
const result = { edges: EDGES, orders: ORDERS, events: ORDERS * EVENTS_PER_ORDER, socketsPerEdge: SOCKETS_PER_EDGE, users: USERS, userSubscribers: USER_SUBSCRIBERS, partitions: partitions.count };
try {
  const redisCluster = /** @type {NonNullable<typeof cluster.redisCluster>} */ (cluster.redisCluster);
  const masters = await redisCluster.masters();
  const conns = masters.map((m) => redisCluster.nodeClient(m.port));
  const client = cluster.redisClient();
  // Every channel the run publishes on, with the master owning its slot.
  /** @type {{ name: string, kind: string, partition?: number, redisChannel?: string, master?: number, subscribers?: number, events?: number, messages?: number, pushBytes?: number }[]} */
  const channels = [
    ...ALL_ORDERS_CHANNELS.flatMap((ch) => channelStreams(ch, partitions).map((name, p) => ({ name, kind: "all-orders", partition: p }))),
    ...Array.from({ length: USERS }, (_, i) => ({ name: userChannel(i), kind: "user" })),
  ];
  for (const c of channels) {
    c.redisChannel = pubsubChannel(c.name);
    const slot = Number(await client.cluster("KEYSLOT", c.redisChannel));
    c.master = masters.findIndex((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
  }

  // Subscribers: every node holds both all-orders channels; user i's channel is held by node i % EDGES.
  const urls = cluster.edges.map((e) => e.url);
  for (const url of urls) for (let k = 0; k < SOCKETS_PER_EDGE; k++) sockets.push({ kind: "all-orders", s: subscriber(url, ["orders.created", "orders.status"]) });
  for (let i = 0; i < USER_SUBSCRIBERS; i++) {
    sockets.push({ kind: "user", user: `u${i}`, s: subscriber(urls[i % EDGES], [userChannel(i)], signToken(cluster.jwtSecret, { sub: `u${i}` })) });
  }
  let timer;
  const subscribeTimeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("sockets not subscribed within 30 s")), 30_000);
  });
  await Promise.race([Promise.all(sockets.map((x) => x.s.subscribed)), subscribeTimeout]).finally(() => clearTimeout(timer));
  for (const c of channels) {
    const reply = /** @type {unknown[]} */ (await conns[c.master ?? -1].call("PUBSUB", "SHARDNUMSUB", String(c.redisChannel)));
    c.subscribers = Number(reply[1]);
  }

  conn = createRedis(cluster.redisUrl, { role: "command", name: "bench-all-orders" });
  await waitReady(conn);
  store = new OrderStore(conn, { sharded: true, partitions, history: { size: 1_000_000, ttlMs: 3_600_000, metaTtlMs: 86_400_000 } });

  const seqs = async () => Promise.all(channels.map(async (c) => Number((await conn.hget(metaKey(c.name), "s")) ?? 0)));
  const edgesBefore = await Promise.all(cluster.edges.map((e) => edgeEventsIn(e.port)));
  await waitQuiet(conns, { quietMs: 300 });
  const before = { masters: await Promise.all(conns.map(masterReading)), seqs: await seqs() };

  // The orders of user i: created round robin over the partitions (one create each), then each action in turn.
  const t0 = performance.now();
  const perUser = new Array(USERS).fill(0);
  for (let from = 0; from < ORDERS; from += BATCH) {
    const n = Math.min(BATCH, ORDERS - from);
    const created = await Promise.all(
      Array.from({ length: n }, (_, k) => {
        const u = (from + k) % USERS;
        perUser[u]++;
        return store.create({ userId: `u${u}`, items: [{ productId: `sku-${(from + k) % 50}`, quantity: 1, price: 9.99 }] });
      }),
    );
    for (const action of ACTIONS) {
      const rs = await store.transitionMany(created.map((r) => ({ orderId: r.order.id, action })));
      const bad = rs.find((r) => !r.ok);
      if (bad) throw new Error(`transition ${action} refused: ${bad.code}`);
    }
  }
  result.publishSeconds = round((performance.now() - t0) / 1000, 2);

  // Every socket has every event it subscribed to.
  const want = (x) => (x.kind === "all-orders" ? ORDERS * EVENTS_PER_ORDER : perUser[Number(x.user.slice(1))] * EVENTS_PER_ORDER);
  const deadline = Date.now() + TIMEOUT_MS;
  while (sockets.some((x) => x.s.events < want(x)) && Date.now() < deadline) await sleep(100);
  await waitQuiet(conns, { quietMs: 500 });
  const after = { masters: await Promise.all(conns.map(masterReading)), seqs: await seqs() };
  const edgesAfter = await Promise.all(cluster.edges.map((e) => edgeEventsIn(e.port)));
  result.socketsComplete = sockets.filter((x) => x.s.events === want(x)).length;
  result.sockets = sockets.length;
  result.socketErrors = sockets.flatMap((x) => x.s.errors).slice(0, 10);

  // Exact bytes of the pub/sub pushes: every frame the run stored, × the channel's subscribers.
  for (const [i, c] of channels.entries()) {
    c.events = after.seqs[i] - before.seqs[i];
    const subscribers = c.subscribers ?? 0;
    c.messages = c.events * subscribers;
    c.pushBytes = 0;
    if (subscribers > 0 && c.events > 0) {
      const frames = await conn.xrevrange(historyKey(c.name), "+", "-", "COUNT", c.events);
      for (const [, fields] of frames) c.pushBytes += pushBytes(c.redisChannel, String(fields[1])) * subscribers;
    }
  }
  const events = result.events;
  const sum = (list, f) => list.reduce((a, x) => a + f(x), 0);
  result.perMaster = masters.map((m, mi) => {
    const mine = channels.filter((c) => c.master === mi);
    const fh = mine.filter((c) => c.kind === "all-orders");
    const user = mine.filter((c) => c.kind === "user");
    const ownedPartitions = new Set(fh.map((c) => c.partition)).size;
    const d = (k) => after.masters[mi][k] - before.masters[mi][k];
    const messages = sum(mine, (c) => c.messages);
    return {
      port: m.port,
      slots: m.slots,
      partitionsOwned: ownedPartitions,
      spublishCalls: d("spublish"),
      eventsOnChannels: sum(mine, (c) => c.events),
      allOrdersEvents: sum(fh, (c) => c.events),
      userEvents: sum(user, (c) => c.events),
      shardNumSubAllOrders: [...new Set(fh.map((c) => c.subscribers))],
      allOrdersMessagesOut: sum(fh, (c) => c.messages),
      userMessagesOut: sum(user, (c) => c.messages),
      messagesOut: messages,
      modelAllOrdersMessagesOut: Math.round((ownedPartitions / partitions.count) * events * EDGES),
      messagesOutPerEvent: round(messages / events, 3),
      netOutputBytes: d("netOutputBytes"),
      replOutputBytes: d("replOutputBytes"),
      pushBytes: sum(mine, (c) => c.pushBytes),
      publishShardSentToReplicas: d("publishShardSent"),
    };
  });
  const t = (k) => sum(result.perMaster, (m) => m[k]);
  const subscribedUserEvents = sum(channels.filter((c) => c.kind === "user"), (c) => c.events * c.subscribers);
  result.totals = {
    spublishCalls: t("spublishCalls"),
    spublishPerEvent: round(t("spublishCalls") / events, 3),
    messagesOut: t("messagesOut"),
    messagesOutPerEvent: round(t("messagesOut") / events, 3),
    modelMessagesOutPerEvent: round(EDGES + subscribedUserEvents / events, 3),
    edgeEventsIn: sum(edgesAfter, (x) => x) - sum(edgesBefore, (x) => x),
    webSocketFramesOut: sum(sockets, (x) => x.s.events),
    netOutputBytes: t("netOutputBytes"),
    replOutputBytes: t("replOutputBytes"),
    pushBytes: t("pushBytes"),
    bytesOutPerEvent: Math.round(t("netOutputBytes") / events),
    publishShardSentToReplicas: t("publishShardSentToReplicas"),
  };

  const pct = (x) => `${(x * 100).toFixed(1)} %`;
  const masterCells = (f) => [...result.perMaster.map(f), ""];
  const totalOnly = (v) => [...result.perMaster.map(() => ""), v];
  const header = [...result.perMaster.map((m) => `:${m.port}`), "all"];
  const T = result.totals;
  printColumns(
    `bench:all-orders (3 masters, ${EDGES} edge nodes x ${SOCKETS_PER_EDGE} all-orders sockets, ${USER_SUBSCRIBERS} user-channel sockets; ${ORDERS} orders = ${events} events)`,
    header,
    [
      { metric: "partitions owned (of 12)", cells: [...result.perMaster.map((m) => m.partitionsOwned), partitions.count] },
      { metric: "SPUBLISH calls (commandstats)", cells: [...result.perMaster.map((m) => m.spublishCalls), T.spublishCalls] },
      { metric: "  = events on its channels", cells: [...result.perMaster.map((m) => m.eventsOnChannels), sum(channels, (c) => c.events)] },
      { metric: "SHARDNUMSUB of its partition streams", cells: masterCells((m) => m.shardNumSubAllOrders.join(",")) },
      { metric: "messages out, all-orders streams", cells: [...result.perMaster.map((m) => m.allOrdersMessagesOut), t("allOrdersMessagesOut")] },
      { metric: "  model: partitions/12 x events x N", cells: [...result.perMaster.map((m) => m.modelAllOrdersMessagesOut), events * EDGES] },
      { metric: "messages out, user channels", cells: [...result.perMaster.map((m) => m.userMessagesOut), t("userMessagesOut")] },
      { metric: "messages out / event", cells: [...result.perMaster.map((m) => m.messagesOutPerEvent), T.messagesOutPerEvent] },
      { metric: "  model: N + user subscribers", cells: totalOnly(T.modelMessagesOutPerEvent) },
      { metric: "share of messages out", cells: [...result.perMaster.map((m) => pct(m.messagesOut / T.messagesOut)), ""] },
      { metric: "orderstream_edge_events_in_total (edges' count)", cells: totalOnly(T.edgeEventsIn) },
      { metric: "bytes to clients (net out - repl out)", cells: [...result.perMaster.map((m) => m.netOutputBytes), T.netOutputBytes] },
      { metric: "  of which smessage pushes (exact)", cells: [...result.perMaster.map((m) => m.pushBytes), T.pushBytes] },
      { metric: "bytes to clients / event", cells: [...result.perMaster.map((m) => Math.round(m.netOutputBytes / events)), T.bytesOutPerEvent] },
      { metric: "replication stream bytes", cells: [...result.perMaster.map((m) => m.replOutputBytes), T.replOutputBytes] },
      { metric: "publishshard to replicas (bus)", cells: [...result.perMaster.map((m) => m.publishShardSentToReplicas), T.publishShardSentToReplicas] },
      { metric: "WebSocket frames out (edges)", cells: totalOnly(T.webSocketFramesOut) },
    ],
  );
  console.log(`  sockets with every event: ${result.socketsComplete}/${result.sockets}; publish took ${result.publishSeconds} s; SPUBLISH per event ${T.spublishPerEvent}`);
  if (result.socketsComplete !== result.sockets) {
    process.exitCode = 1;
    console.log("  some sockets are missing events (figures above still describe what Redis sent)");
  }
} catch (err) {
  result.error = err.message;
  process.exitCode = 1;
  console.error(`\nbench:all-orders FAILED: ${err.stack ?? err.message}`);
} finally {
  for (const x of sockets) x.s.ws.terminate();
  if (conn) await closeRedis(conn);
  await cluster.stop();
}
console.log(`\nwrote ${writeResult("all-orders-egress", result)}`);
