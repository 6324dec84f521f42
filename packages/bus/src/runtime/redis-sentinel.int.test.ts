import { type TestRedis, type TestRedisSentinel, startRedis, startRedisSentinel } from "@orderstream/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisConnection, closeRedis, createRedis, waitReady } from "./redis-connection.js";
import { guardRedis, RedisUnavailableError } from "./redis-errors.js";
import { channelStreams } from "../read/channel-history.js";
import { metaKey } from "../layout/keys.js";
import { OrderStore } from "../write/order-store.js";

const opened: RedisConnection[] = [];
function open(url: string, role: "command" | "subscriber" | "bullmq", name: string): RedisConnection {
  const conn = createRedis(url, { role, name });
  opened.push(conn);
  return conn;
}
afterAll(async () => {
  await Promise.all(opened.map(closeRedis));
});

/** Until a SET goes through on `cmd`; how long that took. Every failure must be an UNAVAILABLE kind. */
async function writableAfter(cmd: RedisConnection, key: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await guardRedis(() => cmd.set(key, "1"));
      return Date.now() - started;
    } catch (err) {
      expect(err).toBeInstanceOf(RedisUnavailableError);
      if (Date.now() - started > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe("createRedis on Redis Sentinel (primary, replica, 3 sentinels)", () => {
  let rs: TestRedisSentinel;
  beforeAll(async () => {
    rs = await startRedisSentinel();
  }, 40_000);
  afterAll(async () => {
    await rs?.stop();
  });

  it("writes and reads, fails over: commands answer UNAVAILABLE (never hang), then write on the new primary; the subscriber hears messages after the switch; a channel moves to a new epoch on its first event after it", async () => {
    const cmd = open(rs.url, "command", "t-cmd");
    const sub = open(rs.url, "subscriber", "t-sub");
    const bull = open(rs.url, "bullmq", "t-bull");
    await Promise.all([waitReady(cmd), waitReady(sub), waitReady(bull)]);
    await cmd.set("sentinel:k", "before");
    expect(await cmd.get("sentinel:k")).toBe("before");
    const got: string[] = [];
    sub.on("message", (_ch: string, m: string) => got.push(m));
    await sub.subscribe("sentinel:ch");
    // A channel's epoch: the same while the primary is, a new one on its first event after the
    // failover (the old primary's tail may be lost), then the same again.
    const store = new OrderStore(cmd);
    const req = { userId: "ep", items: [{ productId: "p", quantity: 1, price: 1 }] };
    const epoch = async (): Promise<string | null> =>
      cmd.hget(metaKey(channelStreams("orders.user.ep", store.partitions)[0] as string), "e");
    const append = async (): Promise<void> => {
      await store.create(req);
    };
    await append();
    const before = await epoch();
    await append();
    expect(await epoch()).toBe(before);

    // Writes run all along; none may take longer than the command timeout plus a margin.
    let writing = true;
    let slowest = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const t = Date.now();
        await guardRedis(() => cmd.set(`sentinel:w:${i}`, "1")).catch((err: unknown) => expect(err).toBeInstanceOf(RedisUnavailableError));
        slowest = Math.max(slowest, Date.now() - t);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const sw = await rs.failover();
    expect(sw.to).not.toBe(sw.from);
    const writableMs = await writableAfter(cmd, "sentinel:after", 10_000);
    writing = false;
    await writer;
    expect(slowest).toBeLessThan(1500);
    // The command connection is on the new primary now (its INFO says master, on that port).
    expect(String(await cmd.info("server"))).toContain(`tcp_port:${sw.to}`);
    expect(await cmd.get("sentinel:k")).toBe("before");
    expect(await epoch()).toBe(before); // nothing appended yet
    await append();
    const newEpoch = await epoch();
    expect(newEpoch).not.toBe(before);
    await append();
    expect(await epoch()).toBe(newEpoch);
    // BullMQ's connection (offline queue on) just waits for the new primary.
    await bull.set("sentinel:bull", "1");

    await expect
      .poll(
        async () => {
          await cmd.publish("sentinel:ch", "after-switch");
          return got.includes("after-switch");
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe(true);
    console.log(
      `sentinel failover: sentinels switched in ${sw.ms} ms; writes again ${writableMs} ms after that; slowest write ${slowest} ms`,
    );
  }, 60_000);

  it("follows a SIGKILLed primary to the promoted replica", async () => {
    // A set of its own: after the failover above, the old primary takes Sentinel ~10 s to
    // become a replica in sync, the only node a kill could fail over to.
    const fresh = await startRedisSentinel();
    try {
      await killPrimaryOf(fresh);
    } finally {
      await fresh.stop();
    }
  }, 60_000);
});

/** SIGKILLs the primary of `rs`; a command connection must write on the promoted replica. */
async function killPrimaryOf(rs: TestRedisSentinel): Promise<void> {
  const cmd = open(rs.url, "command", "t-kill");
  await waitReady(cmd);
  const sw = await rs.killPrimary();
  const writableMs = await writableAfter(cmd, "sentinel:after-kill", 10_000);
  expect(String(await cmd.info("server"))).toContain(`tcp_port:${sw.to}`);
  console.log(`sentinel kill: promoted in ${sw.ms} ms; writes again ${writableMs} ms after that`);
}

describe("a single-node URL whose primary is demoted behind its address", () => {
  let a: TestRedis;
  let b: TestRedis;
  beforeAll(async () => {
    [a, b] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("answers UNAVAILABLE on READONLY and reconnects instead of failing every later write", async () => {
    const cmd = open(a.url, "command", "t-demoted");
    await waitReady(cmd);
    const admin = new Redis({ port: a.port, host: "127.0.0.1" });
    try {
      const firstId = Number(await cmd.client("ID"));
      await admin.replicaof("127.0.0.1", String(b.port));
      await expect(guardRedis(() => cmd.set("k", "1"))).rejects.toBeInstanceOf(RedisUnavailableError);
      // The managed service puts a primary behind the address again.
      await admin.replicaof("NO", "ONE");
      await writableAfter(cmd, "k", 5000);
      expect(Number(await cmd.client("ID"))).not.toBe(firstId);
    } finally {
      admin.disconnect();
    }
  });
});
