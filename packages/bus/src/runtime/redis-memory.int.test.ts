import { type TestRedis, type TestRedisCluster, startRedis, startRedisCluster } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisConnection, closeRedis, createRedis, waitReady } from "./redis-connection.js";
import { redisMemory } from "./redis-memory.js";

let single: TestRedis;
let cluster: TestRedisCluster;
const opened: RedisConnection[] = [];
beforeAll(async () => {
  [single, cluster] = await Promise.all([startRedis(["--maxmemory", "64mb"]), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all(opened.map(closeRedis));
  await Promise.all([single?.stop(), cluster?.stop()]);
});

const open = async (url: string): Promise<RedisConnection> => {
  const conn = createRedis(url, { role: "command", name: "memory-test" });
  opened.push(conn);
  await waitReady(conn);
  return conn;
};

describe("redisMemory (what the processor samples for OrderstreamRedisMemoryHigh)", () => {
  it("reads used memory and maxmemory of a single node", async () => {
    const [m, ...rest] = await redisMemory(await open(single.url));
    expect(rest).toEqual([]);
    expect(m?.maxBytes).toBe(64 * 1024 * 1024);
    expect(m?.usedBytes).toBeGreaterThan(100_000);
    expect(m?.node).toMatch(/:\d+$/);
  });

  it("reads every master of a Redis Cluster, one entry each", async () => {
    const got = await redisMemory(await open(cluster.url));
    const masters = await cluster.masters();
    expect(got.map((m) => Number(m.node.split(":").pop())).sort()).toEqual(masters.map((m) => m.port).sort());
    for (const m of got) {
      expect(m.usedBytes).toBeGreaterThan(0);
      expect(m.maxBytes).toBe(0);
    }
  });
});
