import { existsSync } from "node:fs";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClusterNodesMasters, startRedisCluster, type TestRedisCluster } from "./redis-cluster.js";

/** Keys chosen to fall in slots served by different masters ({tag} picks the slot). */
const KEYS = ["{a}k", "{b}k", "{c}k", "{d}k", "{e}k", "{f}k"];

describe("startRedisCluster", () => {
  let rc: TestRedisCluster;
  beforeAll(async () => {
    rc = await startRedisCluster();
  });
  afterAll(async () => {
    await rc?.stop();
  });

  it("starts 3 masters and 3 replicas covering all 16384 slots, masters first in the URL", async () => {
    const masters = await rc.masters();
    expect(masters).toHaveLength(3);
    const covered = masters.flatMap((m) => m.slots).reduce((n, [a, b]) => n + b - a + 1, 0);
    expect(covered).toBe(16384);
    expect(rc.nodes).toHaveLength(6);
    expect(new Set(rc.nodes.slice(0, 3).map((n) => n.port))).toEqual(new Set(masters.map((m) => m.port)));
    expect(rc.url).toBe(rc.nodes.map((n) => `redis://127.0.0.1:${n.port}`).join(","));
    const roles = await Promise.all(rc.nodes.map(async (n) => (await rc.nodeClient(n.port).role())[0]));
    expect(roles).toEqual(["master", "master", "master", "slave", "slave", "slave"]);
  });

  it("SETs and GETs through client() on keys of different masters", async () => {
    const c = rc.client();
    const slots = await Promise.all(KEYS.map(async (k) => Number(await c.call("CLUSTER", "KEYSLOT", k))));
    const masters = await rc.masters();
    const owners = new Set(slots.map((s) => masters.find((m) => m.slots.some(([a, b]) => s >= a && s <= b))?.port));
    expect(owners.size).toBeGreaterThan(1);
    await Promise.all(KEYS.map((k) => c.set(k, `v-${k}`)));
    expect(await Promise.all(KEYS.map((k) => c.get(k)))).toEqual(KEYS.map((k) => `v-${k}`));
  });

  it("round-trips SPUBLISH to SSUBSCRIBE through a Cluster with sharded subscribers", async () => {
    const sub = new Cluster(rc.nodes.map(({ port }) => ({ host: "127.0.0.1", port })), { shardedSubscribers: true });
    sub.on("error", () => undefined);
    try {
      const got: [string, string][] = [];
      sub.on("smessage", (ch: string, msg: string) => got.push([ch, msg]));
      await sub.ssubscribe("{a}ch");
      await sub.ssubscribe("{b}ch");
      const pub = rc.client();
      await pub.spublish("{a}ch", "one");
      await pub.spublish("{b}ch", "two");
      await expect.poll(() => got, { timeout: 5000 }).toEqual(expect.arrayContaining([["{a}ch", "one"], ["{b}ch", "two"]]));
    } finally {
      sub.disconnect();
    }
  });
});

describe("startRedisCluster with a password", () => {
  it("requires it on every node, puts it in every URL, and stop() removes processes and files", async () => {
    const rc = await startRedisCluster({ password: "s3cret", replicasPerMaster: 0 });
    let stopped = false;
    try {
      expect(rc.nodes).toHaveLength(3);
      for (const n of rc.nodes) expect(n.url).toBe(`redis://:s3cret@127.0.0.1:${n.port}`);
      const c = rc.client();
      await c.set("{x}pw", "ok");
      expect(await c.get("{x}pw")).toBe("ok");
      const raw = await rc.nodeClient(rc.nodes[0]?.port ?? 0).call("CONFIG", "GET", "dir");
      const dir = String((raw as string[])[1]);
      expect(existsSync(dir)).toBe(true);
      await rc.stop();
      stopped = true;
      expect(existsSync(dir)).toBe(false);
    } finally {
      if (!stopped) await rc.stop();
    }
  });
});

describe("parseClusterNodesMasters", () => {
  it("keeps live masters with their ranges, skipping failed ones and migrating markers", () => {
    const text = [
      "a 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460 [93->-b]",
      "b 127.0.0.1:7002@17002,host master - 0 0 2 connected 5461-10922 10923",
      "c 127.0.0.1:7003@17003 master,fail - 0 0 3 disconnected",
      "d 127.0.0.1:7004@17004 slave a 0 0 1 connected",
      "e 127.0.0.1:7005@17005 master - 0 0 4 connected 10924-16383",
    ].join("\n");
    expect(parseClusterNodesMasters(text)).toEqual([
      { port: 7001, slots: [[0, 5460]] },
      { port: 7002, slots: [[5461, 10922], [10923, 10923]] },
      { port: 7005, slots: [[10924, 16383]] },
    ]);
  });
});
