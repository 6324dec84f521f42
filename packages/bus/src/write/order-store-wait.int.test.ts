import calculateSlot from "cluster-key-slot";
import { type TestRedis, startRedis, startRedisCluster, waitUntil } from "@orderstream/testkit";
import { OrderStatus } from "@orderstream/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dueKey } from "../layout/keys.js";
import { OrderStore } from "./order-store.js";
import { type RedisConnection, closeRedis, createRedis, waitReady } from "../runtime/redis-connection.js";
import { ReplicationUnconfirmedError } from "../runtime/redis-errors.js";

// REDIS_WAIT_REPLICAS: a primary with one replica; the replica stopped to make WAIT fall short.
let primary: TestRedis;
let replica: TestRedis;
let conn: RedisConnection;
beforeAll(async () => {
  primary = await startRedis(["--repl-diskless-sync-delay", "0"]);
  replica = await startRedis(["--replicaof", "127.0.0.1", String(primary.port)]);
  conn = createRedis(primary.url, { role: "command", name: "t-wait", commandTimeoutMs: 2000 });
  await waitReady(conn);
  await waitUntil(async () => String(await conn.info("replication")).includes("state=online"), "replica online", 10_000, 50);
});
afterAll(async () => {
  await closeRedis(conn);
  await replica?.stop();
  await primary?.stop();
});

const req = { userId: "w1", items: [{ productId: "p", quantity: 1, price: 1 }] };

describe("OrderStore with waitReplicas", () => {
  it("answers a create and a transition once WAIT confirmed them on the replica", async () => {
    const store = new OrderStore(conn, { waitReplicas: { replicas: 1, timeoutMs: 1000 } });
    const { order } = await store.create(req);
    const r = await store.transition(order.id, "confirm");
    expect(r.ok).toBe(true);
  });

  it("answers 'written but not confirmed on N replicas' when WAIT falls short; the write stays", async () => {
    const store = new OrderStore(conn, { waitReplicas: { replicas: 2, timeoutMs: 100 } });
    const t = Date.now();
    const err = await store.create(req).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReplicationUnconfirmedError);
    expect((err as Error).message).toMatch(/^written but not confirmed on 2 replicas \(1 confirmed\)/);
    expect(Date.now() - t).toBeGreaterThanOrEqual(90);
    // The order is stored all the same (it is the answer that says it may be lost).
    const ids = (await conn.keys("os:{*}:order:*")).length;
    expect(ids).toBeGreaterThanOrEqual(2);
  });

  it("does not WAIT when off", async () => {
    await replica.stop();
    const store = new OrderStore(conn);
    const { order } = await store.create(req);
    expect((await store.get(order.id))?.status).toBe(OrderStatus.PENDING);
  });
});

describe.runIf(process.platform === "linux")("OrderStore with waitReplicas on a Redis Cluster", () => {
  it("WAITs on the master that ran the script: its replica stopped makes WAIT fall short, the others' do not", async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    const cc = createRedis(cluster.url, { role: "command", name: "t-wait-cluster", commandTimeoutMs: 3000 });
    let stopped: number | undefined;
    try {
      await waitReady(cc);
      const store = new OrderStore(cc, { sharded: true, waitReplicas: { replicas: 1, timeoutMs: 2000 } });
      await store.create({ ...req, userId: "wc" });
      // The replica of the master that owns user wc's partition, found through CLUSTER NODES.
      const slot = calculateSlot(dueKey(store.partitions.tag(store.partitions.ofUser("wc"))));
      const owner = (await cluster.masters()).find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
      const lines = String(await cluster.nodeClient(owner?.port ?? 0).call("CLUSTER", "NODES"))
        .trim()
        .split("\n");
      const ownerId = lines.find((l) => l.includes(`:${owner?.port}@`))?.split(" ")[0];
      const replicaPort = Number(/:(\d+)@/.exec(lines.find((l) => l.split(" ")[3] === ownerId) ?? "")?.[1]);
      const pid = Number(/process_id:(\d+)/.exec(await cluster.nodeClient(replicaPort).info("server"))?.[1]);
      process.kill(pid, "SIGSTOP"); // a node this test started, by its PID
      stopped = pid;
      const err = await store.create({ ...req, userId: "wc" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ReplicationUnconfirmedError);
      // A user in a partition of another master is confirmed as usual.
      const other = Array.from({ length: 200 }, (_, i) => `wo${i}`).find((u) => {
        const s = calculateSlot(dueKey(store.partitions.tag(store.partitions.ofUser(u))));
        return !owner?.slots.some(([a, b]) => s >= a && s <= b);
      }) as string;
      expect((await store.create({ ...req, userId: other })).created).toBe(true);
    } finally {
      if (stopped !== undefined) process.kill(stopped, "SIGCONT");
      await closeRedis(cc);
      await cluster.stop();
    }
  }, 60_000);
});
