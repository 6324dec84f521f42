import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createRedis } from "./redis-connection.js";

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
    const sub = createRedis("redis://:pw@127.0.0.1:1,redis://127.0.0.1:2", {
      role: "subscriber",
      name: "s",
      autoPipelining: true,
    }) as Cluster;
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
      expect((conn as Redis).options).toMatchObject({
        host: "localhost",
        port: 1,
        db: 3,
        username: "u",
        password: "pw",
        tls: { servername: "localhost" },
        enableAutoPipelining: true,
      });
    } finally {
      conn.disconnect();
    }
  });

  it("refuses a cluster URL with a /db path before connecting", () => {
    expect(() => createRedis("redis://a:1/1,redis://b:2", { role: "command", name: "t" })).toThrow(/REDIS_URL.*db 0/);
  });

  it("connects through the sentinels of a redis+sentinel:// URL, with the master's and the sentinels' credentials", () => {
    const conn = createRedis("redis+sentinel://app:pw@localhost:1,127.0.0.1:2/mymaster?sentinelPassword=sp", {
      role: "command",
      name: "t",
    }) as Redis;
    try {
      expect(conn).toBeInstanceOf(Redis);
      expect(conn.options).toMatchObject({
        sentinels: [
          { host: "localhost", port: 1 },
          { host: "127.0.0.1", port: 2 },
        ],
        name: "mymaster",
        role: "master",
        username: "app",
        password: "pw",
        sentinelPassword: "sp",
        failoverDetector: true,
        enableOfflineQueue: false,
      });
      expect(conn.options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(1);
      expect(conn.options.reconnectOnError?.(new Error("ERR wrong number of arguments"))).toBe(false);
    } finally {
      conn.disconnect();
    }
    const bull = createRedis("rediss+sentinel://s.example.com/m", { role: "bullmq", name: "q" }) as Redis;
    try {
      expect(bull.options).toMatchObject({
        sentinels: [{ host: "s.example.com", port: 26379 }],
        enableTLSForSentinelMode: true,
        tls: {},
        sentinelTLS: {},
        maxRetriesPerRequest: null,
      });
      // Not a command connection: the refused write is sent again once reconnected.
      expect(bull.options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    } finally {
      bull.disconnect();
    }
  });

  it("reconnects a single-node connection on READONLY (a primary demoted behind its address)", () => {
    const conn = createRedis("redis://127.0.0.1:1", { role: "command", name: "t" }) as Redis;
    try {
      expect(conn.options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica. script: x"))).toBe(1);
    } finally {
      conn.disconnect();
    }
  });
});
