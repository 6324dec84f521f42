import calculateSlot from "cluster-key-slot";
import type { Redis } from "ioredis";
import { type TestRedis, type TestRedisCluster, startRedis, startRedisCluster } from "@orderstream/testkit";
import { RedisBroker } from "../read/redis-broker.js";
import { OrderStore, type OrderStoreOptions } from "../write/order-store.js";
import { type RedisConnection, closeRedis, createRedis, waitReady } from "../runtime/redis-connection.js";
import { isClusterUrl } from "../runtime/redis-url.js";

/** The Redis topologies the bus's integration tests run on. */
export type Topology = "single" | "cluster";

/** Both topologies, for `describe.each`. */
export const TOPOLOGIES: Topology[] = ["single", "cluster"];

/** A real Redis (one node, or a 3-master cluster) with the bus wired on it, for the bus's own tests. */
export interface BusFixture {
  topology: Topology;
  url: string;
  /** Set on a single node: stop and start it for outage tests. */
  redis: TestRedis | undefined;
  cluster: TestRedisCluster | undefined;
  cmd: RedisConnection;
  sub: RedisConnection;
  store: OrderStore;
  /** A new broker on a subscriber connection of its own (one per simulated node), closed with the fixture. */
  broker(): RedisBroker;
  /** Subscribers of a Redis channel: NUMSUB on one node, SHARDNUMSUB on the owning master of a cluster. */
  numsub(redisChannel: string): Promise<number>;
  /** Drops every pub/sub connection (CLIENT KILL TYPE PUBSUB on every master). */
  killSubscribers(): Promise<void>;
  /** Loses every key (FLUSHALL on every master), as a Redis that lost its data. */
  flushAll(): Promise<void>;
  /** Another store on its own connection (other options), closed with the fixture. */
  newStore(opts?: OrderStoreOptions): Promise<{ store: OrderStore; conn: RedisConnection }>;
  close(): Promise<void>;
}

const HISTORY = { size: 1000, ttlMs: 60_000, metaTtlMs: 120_000 };

/** Starts Redis of the given topology and connects a command and a subscriber connection to it. */
export async function busFixture(topology: Topology = "single"): Promise<BusFixture> {
  const redis = topology === "single" ? await startRedis() : undefined;
  const cluster = topology === "cluster" ? await startRedisCluster() : undefined;
  const url = redis?.url ?? cluster?.url ?? "";
  const sharded = isClusterUrl(url);
  const cmd = createRedis(url, { role: "command", name: "test-cmd" });
  const sub = createRedis(url, { role: "subscriber", name: "test-sub" });
  await Promise.all([waitReady(cmd), waitReady(sub)]);
  const extra: { store: OrderStore; conn: RedisConnection }[] = [];
  const subs: RedisConnection[] = [];
  const store = new OrderStore(cmd, { history: HISTORY, sharded });
  return {
    topology,
    url,
    redis,
    cluster,
    cmd,
    sub,
    store,
    broker() {
      const conn = createRedis(url, { role: "subscriber", name: `test-sub-${subs.length + 1}` });
      subs.push(conn);
      return new RedisBroker(conn, cmd, { sharded });
    },
    async numsub(redisChannel) {
      if (!cluster) {
        const [, n] = (await cmd.pubsub("NUMSUB", redisChannel)) as [string, number];
        return n;
      }
      const slot = calculateSlot(redisChannel);
      const owner = (await cluster.masters()).find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
      if (!owner) throw new Error(`no master owns slot ${slot}`);
      const [, n] = (await cluster.nodeClient(owner.port).call("PUBSUB", "SHARDNUMSUB", redisChannel)) as [string, number];
      return n;
    },
    async killSubscribers() {
      if (!cluster) await (cmd as Redis).client("KILL", "TYPE", "PUBSUB");
      else for (const m of await cluster.masters()) await cluster.nodeClient(m.port).client("KILL", "TYPE", "PUBSUB");
    },
    async flushAll() {
      if (!cluster) await (cmd as Redis).flushall();
      else for (const m of await cluster.masters()) await cluster.nodeClient(m.port).flushall();
    },
    async newStore(opts = {}) {
      const conn = createRedis(url, { role: "command", name: "test-cmd-2" });
      await waitReady(conn);
      const store = new OrderStore(conn, { history: HISTORY, sharded, ...opts });
      extra.push({ store, conn });
      return { store, conn };
    },
    async close() {
      for (const e of extra) await closeRedis(e.conn);
      for (const s of subs) await closeRedis(s);
      await closeRedis(cmd);
      await closeRedis(sub);
      await redis?.stop();
      await cluster?.stop();
    },
  };
}
