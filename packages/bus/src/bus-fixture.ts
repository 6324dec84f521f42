import { type TestRedis, startRedis } from "@orderstream/testkit";
import { ChannelSubscriber } from "./channel-subscriber.js";
import { HistoryReader } from "./history-reader.js";
import { OrderStore } from "./order-store.js";
import { type RedisConnection, closeRedis, createRedis, waitReady } from "./redis-connection.js";

/** A real redis-server with the bus wired on it, for the bus's own integration tests. */
export interface BusFixture {
  redis: TestRedis;
  cmd: RedisConnection;
  sub: RedisConnection;
  store: OrderStore;
  history: HistoryReader;
  subscriber: ChannelSubscriber;
  close(): Promise<void>;
}

/** Starts redis-server and connects a command and a subscriber connection to it. */
export async function busFixture(): Promise<BusFixture> {
  const redis = await startRedis();
  const cmd = createRedis(redis.url, { role: "command", name: "test-cmd" });
  const sub = createRedis(redis.url, { role: "subscriber", name: "test-sub" });
  await Promise.all([waitReady(cmd), waitReady(sub)]);
  return {
    redis,
    cmd,
    sub,
    store: new OrderStore(cmd, { history: { size: 100, ttlMs: 60_000, metaTtlMs: 120_000 } }),
    history: new HistoryReader(cmd),
    subscriber: new ChannelSubscriber(sub),
    async close() {
      await closeRedis(cmd);
      await closeRedis(sub);
      await redis.stop();
    },
  };
}
