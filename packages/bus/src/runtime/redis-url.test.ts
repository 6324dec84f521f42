import { describe, expect, it } from "vitest";
import { isClusterUrl, parseRedisUrl } from "./redis-url.js";

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
      nodes: [
        { host: "::1", port: 7000 },
        { host: "::1", port: 7001 },
      ],
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
    ["redis+sentinel://s:26379", /names no master group/],
    ["redis+sentinel://s:26379/", /names no master group/],
    ["redis+sentinel://a:1,,b:2/m", /empty sentinel entry/],
    ["redis+sentinel://a:0/m", /port 0/],
    ["redis+sentinel://a:1/m/2", /no \/db path/],
    ["redis+sentinel://a:1/m?tls=1", /unknown parameter "tls"/],
    ["redis://a:1,redis+sentinel://b:2/m", /mixes a redis\+sentinel/],
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

  it("reads a Sentinel URL: several sentinels, the default port 26379, the master name", () => {
    expect(parseRedisUrl("redis+sentinel://10.0.0.1:26380,sentinel-b,[::1]:5000/mymaster")).toEqual({
      kind: "sentinel",
      nodes: [
        { host: "10.0.0.1", port: 26380 },
        { host: "sentinel-b", port: 26379 },
        { host: "::1", port: 5000 },
      ],
      masterName: "mymaster",
      tls: false,
    });
  });

  it("reads a Sentinel URL's master credentials, the sentinels' own from the query, and TLS", () => {
    expect(parseRedisUrl("rediss+sentinel://app:p%40ss@s1:1,s2:2/orders%2Dmain?sentinelUsername=sen&sentinelPassword=x%26y")).toEqual({
      kind: "sentinel",
      nodes: [
        { host: "s1", port: 1 },
        { host: "s2", port: 2 },
      ],
      masterName: "orders-main",
      username: "app",
      password: "p@ss",
      sentinelUsername: "sen",
      sentinelPassword: "x&y",
      tls: true,
    });
    expect(parseRedisUrl("redis+sentinel://:only@s/m")).toMatchObject({ password: "only", masterName: "m" });
    expect(parseRedisUrl("redis+sentinel://:only@s/m").username).toBeUndefined();
  });

  it("keeps Sentinel passwords out of its errors", () => {
    try {
      parseRedisUrl("redis+sentinel://:topsecret@s:1?sentinelPassword=alsosecret");
      expect.unreachable();
    } catch (err) {
      expect(String(err)).toMatch(/^Error: REDIS_URL .*names no master group/);
      expect(String(err)).not.toContain("topsecret");
      expect(String(err)).not.toContain("alsosecret");
    }
  });
});

describe("isClusterUrl", () => {
  it("is true for several node URLs only: a Sentinel URL lists several sentinels but is one primary", () => {
    expect(isClusterUrl("redis://a:1,redis://b:2")).toBe(true);
    expect(isClusterUrl("redis://a:1")).toBe(false);
    expect(isClusterUrl("redis+sentinel://a:1,b:2,c:3/m")).toBe(false);
  });
});
