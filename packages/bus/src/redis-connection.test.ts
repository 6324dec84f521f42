import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createRedis, parseRedisUrl } from "./redis-connection.js";

describe("parseRedisUrl", () => {
  it("reads one node, with the default port and without credentials", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6390")).toEqual({ kind: "single", nodes: [{ host: "127.0.0.1", port: 6390 }], tls: false });
    expect(parseRedisUrl("redis://redis")).toEqual({ kind: "single", nodes: [{ host: "redis", port: 6379 }], tls: false });
  });

  it("reads user:pass, a password alone, percent-encoded characters and a /db", () => {
    expect(parseRedisUrl("redis://app:p%40ss@redis.internal:6379/2")).toEqual({
      kind: "single",
      nodes: [{ host: "redis.internal", port: 6379 }],
      username: "app",
      password: "p@ss",
      tls: false,
      db: 2,
    });
    const noUser = parseRedisUrl("redis://:s3cret@h:1");
    expect(noUser.password).toBe("s3cret");
    expect(noUser.username).toBeUndefined();
  });

  it("turns on TLS for rediss://", () => {
    expect(parseRedisUrl("rediss://u:p@cache.example.com:6380")).toMatchObject({ kind: "single", tls: true, username: "u", password: "p" });
  });

  it("reads a cluster of 3 with the password on each node, tolerating spaces after commas", () => {
    const url = "redis://:pw@10.0.0.1:7000, redis://:pw@10.0.0.2:7001,redis://:pw@10.0.0.3:7002";
    expect(parseRedisUrl(url)).toEqual({
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
        { host: "10.0.0.3", port: 7002 },
      ],
      password: "pw",
      tls: false,
    });
  });

  it("lets cluster nodes written without credentials share those of the others; IPv6 hosts lose their brackets", () => {
    expect(parseRedisUrl("rediss://u:p@[::1]:7000,rediss://[::1]:7001")).toMatchObject({
      kind: "cluster",
      nodes: [{ host: "::1", port: 7000 }, { host: "::1", port: 7001 }],
      username: "u",
      password: "p",
      tls: true,
    });
  });

  it.each([
    ["redis://a:1/3,redis://b:2", /REDIS_URL .*only db 0/],
    ["redis://a:1,rediss://b:2", /mixes redis:\/\/ and rediss:\/\//],
    ["redis://:one@a:1,redis://:two@b:2", /different credentials/],
    ["redis://a:1,", /empty node entry/],
    ["http://a:1", /unsupported scheme "http:"/],
    ["a:6379", /unsupported scheme|not a URL/],
    ["redis://a:1/x", /database "x"/],
    ["redis://a:1?family=6", /query parameters/],
    ["redis://a:0", /port 0/],
    ["redis://a:99999", /not a URL/],
    ["redis+sentinel://s:26379/mymaster", /redis\+sentinel/],
    ["", /empty node entry/],
  ])("rejects %j naming REDIS_URL", (url, why) => {
    expect(() => parseRedisUrl(url)).toThrow(/^REDIS_URL /);
    expect(() => parseRedisUrl(url)).toThrow(why);
  });

  it("never repeats a password in its errors", () => {
    expect(() => parseRedisUrl("redis://:topsecret@a:1/0,redis://:topsecret@b:2")).toThrow(/\*\*\*@a:1/);
    try {
      parseRedisUrl("redis://:topsecret@a:1/0,redis://:topsecret@b:2");
    } catch (err) {
      expect(String(err)).not.toContain("topsecret");
    }
    expect(() => parseRedisUrl("redis://:top@secret@a:1?x=1")).toThrow(/"redis:\/\/\*\*\*@a:1\?x=1"/);
  });
});

describe("createRedis", () => {
  it("gives a Cluster's node and subscriber connections the URL's credentials and TLS, auto-pipelining on request", () => {
    // Port 1 refuses at once; the connection is closed before it retries.
    const conn = createRedis("rediss://u:pw@localhost:1,rediss://u:pw@127.0.0.1:2", { role: "command", name: "t", autoPipelining: true });
    try {
      expect(conn).toBeInstanceOf(Cluster);
      const cluster = conn as Cluster;
      expect(cluster.options.enableAutoPipelining).toBe(true);
      expect(cluster.options.redisOptions).toMatchObject({ username: "u", password: "pw", tls: {} });
      // The seed nodes as handed to ioredis (a private field of Cluster).
      expect((cluster as unknown as { startupNodes: unknown }).startupNodes).toEqual([
        { host: "localhost", port: 1, tls: { servername: "localhost" } },
        { host: "127.0.0.1", port: 2, tls: {} },
      ]);
    } finally {
      conn.disconnect();
    }
    const sub = createRedis("redis://:pw@127.0.0.1:1,redis://127.0.0.1:2", { role: "subscriber", name: "s", autoPipelining: true }) as Cluster;
    try {
      expect(sub.options.shardedSubscribers).toBe(true);
      expect(sub.options.enableAutoPipelining).toBe(false);
      expect(sub.options.redisOptions).toMatchObject({ password: "pw" });
    } finally {
      sub.disconnect();
    }
  });

  it("does not auto-pipeline unless asked (Lua commands defined with a variable key count need that)", () => {
    const conn = createRedis("redis://127.0.0.1:1", { role: "command", name: "t" });
    const cluster = createRedis("redis://127.0.0.1:1,redis://127.0.0.1:2", { role: "command", name: "t" }) as Cluster;
    try {
      expect((conn as Redis).options.enableAutoPipelining).toBe(false);
      expect(cluster.options.enableAutoPipelining).toBe(false);
    } finally {
      conn.disconnect();
      cluster.disconnect();
    }
  });

  it("connects one node with its db, credentials and TLS servername", () => {
    const conn = createRedis("rediss://u:pw@localhost:1/3", { role: "command", name: "t", autoPipelining: true });
    try {
      expect(conn).toBeInstanceOf(Redis);
      expect((conn as Redis).options).toMatchObject({ host: "localhost", port: 1, db: 3, username: "u", password: "pw", tls: { servername: "localhost" }, enableAutoPipelining: true });
    } finally {
      conn.disconnect();
    }
  });

  it("refuses a cluster URL with a /db path before connecting", () => {
    expect(() => createRedis("redis://a:1/1,redis://b:2", { role: "command", name: "t" })).toThrow(/REDIS_URL.*db 0/);
  });
});
