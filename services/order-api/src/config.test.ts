import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const base = { REDIS_URL: "redis://127.0.0.1:6390" };

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    expect(loadConfig(base)).toEqual({
      redisUrl: "redis://127.0.0.1:6390",
      logLevel: "info",
      shutdownTimeoutMs: 10_000,
      history: { size: 1000, ttlMs: 600_000, metaTtlMs: 86_400_000 },
      grpcHost: "0.0.0.0",
      grpcPort: 50051,
      metricsPort: 9464,
      maxMessageBytes: 4_194_304,
      maxBulkOrders: 100_000,
      bulkBatchSize: 500,
      partitions: 12,
      idempotencyTtlMs: 86_400_000,
      subscribeMaxPending: 1000,
    });
  });

  it("reads every variable and treats empty values as unset", () => {
    const c = loadConfig({
      ...base,
      GRPC_PORT: "0",
      GRPC_HOST: "127.0.0.1",
      MAX_MESSAGE_BYTES: "1048576",
      SUBSCRIBE_MAX_PENDING: "50",
      BULK_BATCH_SIZE: " 100 ",
      LOG_LEVEL: "",
    });
    expect(c.grpcPort).toBe(0);
    expect(c.grpcHost).toBe("127.0.0.1");
    expect(c.maxMessageBytes).toBe(1_048_576);
    expect(c.subscribeMaxPending).toBe(50);
    expect(c.bulkBatchSize).toBe(100);
    expect(c.logLevel).toBe("info");
  });

  it("accepts a comma-separated cluster URL", () => {
    expect(loadConfig({ REDIS_URL: "redis://a:7000, redis://b:7001" }).redisUrl).toContain("redis://b:7001");
  });

  it.each([
    [{}, "REDIS_URL"],
    [{ REDIS_URL: "http://x:1" }, "REDIS_URL"],
    [{ ...base, GRPC_PORT: "70000" }, "GRPC_PORT"],
    [{ ...base, GRPC_PORT: "abc" }, "GRPC_PORT"],
    [{ ...base, METRICS_PORT: "65536" }, "METRICS_PORT"],
    [{ ...base, MAX_BULK_ORDERS: "0" }, "MAX_BULK_ORDERS"],
    [{ ...base, BULK_BATCH_SIZE: "1.5" }, "BULK_BATCH_SIZE"],
    [{ ...base, SUBSCRIBE_MAX_PENDING: "-1" }, "SUBSCRIBE_MAX_PENDING"],
    [{ ...base, LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ ...base, HISTORY_TTL_MS: "5000", HISTORY_META_TTL_MS: "1000" }, "HISTORY_META_TTL_MS"],
  ])("rejects a bad value naming the variable (%j)", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it("ORDER_API_AUTH=jwt needs token keys and takes the edge's AUTH_* variables; off ignores them", () => {
    expect(loadConfig(base).authKeys).toBeUndefined();
    expect(loadConfig({ ...base, AUTH_JWT_SECRET: "s" }).authKeys).toBeUndefined();
    expect(loadConfig({ ...base, ORDER_API_AUTH: "jwt", AUTH_JWT_SECRET: "a,b" }).authKeys?.hs256Secrets).toEqual(["a", "b"]);
    expect(loadConfig({ ...base, ORDER_API_AUTH: "jwt", AUTH_JWKS_URL: "http://id/jwks" }).authKeys?.jwks?.url).toBe("http://id/jwks");
    expect(() => loadConfig({ ...base, ORDER_API_AUTH: "jwt" })).toThrow(/AUTH_JWT_SECRET: is required when ORDER_API_AUTH=jwt/);
    expect(() => loadConfig({ ...base, ORDER_API_AUTH: "basic" })).toThrow(/ORDER_API_AUTH: must be off or jwt/);
  });

  it("GRPC_TLS_CERT and GRPC_TLS_KEY: both (files read at start) or neither", () => {
    const file = new URL(import.meta.url).pathname;
    const c = loadConfig({ ...base, GRPC_TLS_CERT: file, GRPC_TLS_KEY: file });
    expect(c.tls?.certChain).toBeInstanceOf(Buffer);
    expect(() => loadConfig({ ...base, GRPC_TLS_CERT: file })).toThrow(/GRPC_TLS_KEY: .*both/);
    expect(() => loadConfig({ ...base, GRPC_TLS_CERT: "/nonexistent.pem", GRPC_TLS_KEY: file })).toThrow(/GRPC_TLS_CERT: cannot read/);
  });

  it("reads REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS (off by default), takes them on a Redis Cluster and with a Sentinel URL", () => {
    expect(loadConfig(base).waitReplicas).toBeUndefined();
    expect(loadConfig({ ...base, REDIS_WAIT_REPLICAS: "1" }).waitReplicas).toEqual({ replicas: 1, timeoutMs: 500 });
    const sentinel = loadConfig({
      REDIS_URL: "redis+sentinel://s1:26379,s2/mymaster",
      REDIS_WAIT_REPLICAS: "2",
      REDIS_WAIT_TIMEOUT_MS: "1000",
    });
    expect(sentinel).toMatchObject({ redisUrl: "redis+sentinel://s1:26379,s2/mymaster", waitReplicas: { replicas: 2, timeoutMs: 1000 } });
    expect(loadConfig({ REDIS_URL: "redis://a:1,redis://b:2", REDIS_WAIT_REPLICAS: "1" }).waitReplicas).toEqual({
      replicas: 1,
      timeoutMs: 500,
    });
    expect(() => loadConfig({ ...base, REDIS_WAIT_TIMEOUT_MS: "0" })).toThrow(/REDIS_WAIT_TIMEOUT_MS/);
    expect(() => loadConfig({ REDIS_URL: "redis+sentinel://s1:26379" })).toThrow(/REDIS_URL: .*names no master group/);
  });
});
