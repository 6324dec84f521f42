import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { OrderStatus } from "@orderstream/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
