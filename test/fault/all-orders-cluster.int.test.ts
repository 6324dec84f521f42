import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Cluster } from "ioredis";
import { OrderStreamClient } from "@orderstream/client";
import { ALL_ORDERS_CHANNELS, Partitioning, channelHistoryLength, channelStreams, pubsubChannel } from "@orderstream/bus";
import { type LocalCluster, type TestRedisCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import type { OrderServiceClient } from "@orderstream/proto";
import { ClientFleet, type FleetClient, type FleetClientSpec } from "./client-fleet.js";
import { report, scaled, sleep } from "./fault-scale.js";
import { bulkCreate, orderClient } from "./grpc-orders.js";
import { caughtUp, checkSequences, readHistory } from "./history-truth.js";

// The all-orders channels on a 3-master Redis Cluster with 4 edge nodes: each channel is carried
// on one partition stream per partition, every node subscribes each stream once and merges them.
// Orders go through the real write path (gRPC BulkCreateOrders, order-api, processors driving
// each order to DELIVERED): 1 orders.created and 4 orders.status events per order.
const ORDERS = scaled(5000, 500);
const EDGES = 4;
/** All-orders subscribers (SDK clients on both channels) per edge node. */
const PER_NODE = 2;
const CREATE_RATE_PER_S = 1000;
const DISCONNECT_MS = 2000;
const USERS = Array.from({ length: 50 }, (_, i) => `fh${i}`);
const CHANNELS = ["orders.created", "orders.status"];

let cluster: LocalCluster;
let redisCluster: TestRedisCluster;
let redis: Cluster;
let grpc: OrderServiceClient;
const fleet = new ClientFleet();

beforeAll(async () => {
  cluster = await startLocalCluster({
    redis: "cluster",
    edges: EDGES,
    processors: 1,
    env: { HISTORY_SIZE: "1000000" },
    processorEnv: { SHIP_DELAY_MS: "1", DELIVER_DELAY_MS: "1", PROCESSOR_CONCURRENCY: "100", DUE_SWEEP_INTERVAL_MS: "200" },
  });
  redisCluster = cluster.redisCluster as TestRedisCluster;
  redis = cluster.redisClient() as Cluster;
  grpc = orderClient(cluster.apiPort);
}, 90_000);

afterAll(async () => {
  fleet.close();
  grpc?.close();
  await cluster?.stop();
});

/** What the disconnected subscriber went through. */
interface Bounce {
  /** Events it held when its client stopped. */
  eventsAtClose: number;
  /** The offsets it resumed from. */
  offsets: Record<string, string>;
  /** Events replayed on resume (delivered before the `subscribed` reply of the new client). */
  replayed: number;
  /** The `recovered` flag of every `subscribed` reply the new client got. */
  recovered: boolean[];
  resumedOn: string;
}

/**
 * Stops `victim`'s client, waits DISCONNECT_MS, and starts a new client on `url` (another node)
 * resuming from the stopped one's offsets; its events are appended to the victim's record, so the
 * check sees the subscriber's whole sequence across the two connections.
 */
async function bounce(victim: FleetClient, url: string, token: string): Promise<Bounce> {
  const offsets = victim.client.offsets();
  const count = (): number => [...victim.events.values()].reduce((a, l) => a + l.length, 0);
  const eventsAtClose = count();
  victim.client.close();
  await sleep(DISCONNECT_MS);
  const client = new OrderStreamClient({ WebSocket: WebSocket as never, url: [url], token, offsets, minReconnectDelayMs: 200, maxReconnectDelayMs: 2000 });
  const r: Bounce = { eventsAtClose, offsets, replayed: -1, recovered: [], resumedOn: url };
  const subscribed = new Set<string>();
  client.on("open", ({ url: u }) => victim.opens.push({ url: u, at: Date.now() }));
  client.on("close", ({ code }) => victim.closes.push({ code, at: Date.now() }));
  client.on("recoveryFailed", ({ channels }) => victim.recoveryFailed.push(channels));
  client.on("error", (err) => victim.errors.push(err.message));
  client.on("subscribed", ({ channels, recovered }) => {
    r.recovered.push(recovered);
    channels.forEach((ch) => subscribed.add(ch));
    if (r.replayed < 0 && victim.channels.every((ch) => subscribed.has(ch))) r.replayed = count() - eventsAtClose;
  });
  for (const ch of victim.channels) {
    const list = victim.events.get(ch) ?? [];
    client.subscribe(ch, (ev) => list.push({ offset: ev.offset, type: ev.type, orderId: ev.data.id, status: String(ev.data.status) }));
  }
  victim.client = client;
  client.connect();
  await waitUntil(() => victim.channels.every((ch) => subscribed.has(ch)), "the resumed client subscribed", 10_000, 20);
  return r;
}

/** `PUBSUB SHARDNUMSUB` of every partition stream of the all-orders channels, asked on the master owning its slot. */
async function shardSubscribers(): Promise<{ stream: string; master: number; subscribers: number }[]> {
  const masters = await redisCluster.masters();
  const streams = ALL_ORDERS_CHANNELS.flatMap((ch) => channelStreams(ch, new Partitioning()));
  return Promise.all(
    streams.map(async (stream) => {
      const name = pubsubChannel(stream);
      const slot = Number(await redis.cluster("KEYSLOT", name));
      const owner = masters.find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
      if (!owner) throw new Error(`no master owns slot ${slot} of ${name}`);
      const reply = (await redisCluster.nodeClient(owner.port).call("PUBSUB", "SHARDNUMSUB", name)) as [string, number];
      return { stream, master: owner.port, subscribers: Number(reply[1]) };
    }),
  );
}

describe("the all-orders channels on a 3-master Redis Cluster, 4 edge nodes", () => {
  it(`${ORDERS} orders: every subscriber on every node gets each event once, per-order in order; a 2 s disconnect resumes on another node; one stream subscription per node`, async () => {
    const admin = signToken(cluster.jwtSecret, { sub: "ops", admin: true });
    const urls = cluster.edges.map((e) => e.url);
    const specs: FleetClientSpec[] = Array.from({ length: EDGES * PER_NODE }, (_, i) => ({ urls: [urls[i % EDGES] as string], token: admin, channels: CHANNELS }));
    await fleet.connect(specs);
    const streams = await shardSubscribers();
    expect(streams).toHaveLength(ALL_ORDERS_CHANNELS.length * new Partitioning().count);

    // Orders at CREATE_RATE_PER_S over one bulk stream; 30 % in, subscriber 0 (on node 0) goes away for 2 s.
    const victim = fleet.clients[0] as FleetClient;
    let bounced: Promise<Bounce> | undefined;
    const t0 = Date.now();
    const bulk = await bulkCreate(grpc, ORDERS, USERS, async (sent) => {
      if (!bounced && sent >= ORDERS * 0.3) {
        bounced = bounce(victim, urls[1] as string, admin);
        bounced.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
      }
      await sleep(Math.max(0, t0 + (sent * 1000) / CREATE_RATE_PER_S - Date.now()));
    });
    const createMs = Date.now() - t0;
    expect(bulk.error).toBeUndefined();
    expect(bulk.response?.createdCount).toBe(ORDERS);
    expect(bounced).toBeDefined();
    const b = await (bounced as Promise<Bounce>);

    await waitUntil(
      async () =>
        (await channelHistoryLength(redis, "orders.created", new Partitioning())) >= ORDERS &&
        (await channelHistoryLength(redis, "orders.status", new Partitioning())) >= 4 * ORDERS,
      "every order's five events in the histories",
      60_000,
      250,
    );
    const settledMs = Date.now() - t0;
    // readHistory is typed for one node; its reads (readChannelHistory) take a Cluster as well.
    const truth = await readHistory(redis, CHANNELS);
    await waitUntil(() => caughtUp(fleet, truth), "every subscriber caught up", 30_000, 100);
    await sleep(300); // a duplicate or a stray event would arrive now
    const check = checkSequences(fleet, truth);
    const after = await shardSubscribers();
    const perMaster: Record<string, number> = {};
    for (const s of after) perMaster[s.master] = (perMaster[s.master] ?? 0) + 1;
    report("all-orders-cluster", {
      orders: ORDERS,
      edges: EDGES,
      subscribers: fleet.clients.length,
      createMs,
      settledMs,
      disconnect: { eventsAtClose: b.eventsAtClose, replayed: b.replayed, recovered: b.recovered, resumedOn: b.resumedOn },
      streamsPerMaster: perMaster,
      shardNumSub: [...new Set(after.map((s) => s.subscribers))],
      ...check,
    });

    expect(truth.get("orders.created")).toHaveLength(ORDERS);
    expect(truth.get("orders.status")).toHaveLength(4 * ORDERS);
    expect(check.examples).toEqual([]);
    expect(check.mismatched).toBe(0);
    expect(check.eventsDelivered).toBe(check.eventsExpected);
    expect(check.eventsExpected).toBe(fleet.clients.length * 5 * ORDERS);
    // The disconnect really missed events, and the resume on another node replayed them all.
    expect(b.replayed).toBeGreaterThan(0);
    expect(b.recovered.length).toBeGreaterThan(0);
    expect(b.recovered.every((r) => r)).toBe(true);
    expect(fleet.clients.filter((c) => c.recoveryFailed.length > 0).map((c) => c.index)).toEqual([]);
    // Redis carries each partition stream once per node: 4 sharded subscribers on every stream.
    for (const s of [...streams, ...after]) expect(s, s.stream).toMatchObject({ subscribers: EDGES });
    expect(Object.keys(perMaster)).toHaveLength(3);
  }, 120_000);
});
