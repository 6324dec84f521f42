import { type TestRedisCluster, startRedisCluster } from "@orderstream/testkit";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisConnection, closeRedis, createRedis, waitReady } from "./redis-connection.js";

// A password-protected cluster: every connection createRedis opens, the sharded subscriber
// connections included, must carry the URL's credentials or Redis answers NOAUTH.
let rc: TestRedisCluster;
const opened: RedisConnection[] = [];
beforeAll(async () => {
  rc = await startRedisCluster({ password: "s3cret" });
});
afterAll(async () => {
  await Promise.all(opened.map(closeRedis));
  await rc?.stop();
});

function open(role: "command" | "subscriber", name: string, autoPipelining = false): RedisConnection {
  const conn = createRedis(rc.url, { role, name, autoPipelining });
  opened.push(conn);
  return conn;
}

describe("createRedis on a password-protected Redis Cluster", () => {
  it.each([false, true])("command role (autoPipelining %s): SET/GET across slots of every master, concurrently", async (autoPipelining) => {
    const cmd = open("command", "t", autoPipelining);
    expect(cmd).toBeInstanceOf(Cluster);
    await waitReady(cmd);
    const keys = Array.from({ length: 30 }, (_, i) => `conn-test:${i}`);
    await Promise.all(keys.map((k, i) => cmd.set(k, String(i))));
    expect(await Promise.all(keys.map((k) => cmd.get(k)))).toEqual(keys.map((_, i) => String(i)));
    // The keys span every master, so every node connection authenticated.
    const masters = await rc.masters();
    const slots = await Promise.all(keys.map(async (k) => Number(await cmd.call("CLUSTER", "KEYSLOT", k))));
    const owners = new Set(slots.map((s) => masters.find((m) => m.slots.some(([a, b]) => s >= a && s <= b))?.port));
    expect(owners.size).toBe(masters.length);
  });

  it("subscriber role: receives SPUBLISHed messages on channels of different shards (smessage)", async () => {
    const sub = open("subscriber", "s");
    const cmd = open("command", "p");
    await Promise.all([waitReady(sub), waitReady(cmd)]);
    const channels = ["orders.{a}", "orders.{b}", "orders.{c}"];
    const got: string[] = [];
    sub.on("smessage", (channel: string, message: string) => got.push(`${channel}=${message}`));
    for (const ch of channels) await sub.ssubscribe(ch);
    for (const ch of channels) await cmd.spublish(ch, `hello ${ch}`);
    await expect.poll(() => [...got].sort(), { timeout: 5000 }).toEqual(channels.map((ch) => `${ch}=hello ${ch}`).sort());
  });

  it("is refused without the password (the cluster really requires it)", async () => {
    const errors: string[] = [];
    const bare = rc.url.replaceAll(":s3cret@", "");
    const conn = createRedis(bare, {
      role: "subscriber",
      name: "bare",
      // ClusterAllFailedError carries the node's own answer as lastNodeError.
      onError: (err) => errors.push(`${err.message} ${String((err as { lastNodeError?: Error }).lastNodeError?.message)}`),
    });
    opened.push(conn);
    await expect.poll(() => errors.join("\n"), { timeout: 5000 }).toMatch(/NOAUTH/);
  });
});
