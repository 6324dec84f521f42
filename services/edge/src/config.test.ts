import { describe, expect, it } from "vitest";
import { autoWorkers, ConfigError, loadConfig } from "./config.js";
import { openFileLimit } from "./open-file-limit.js";

const base = { REDIS_URL: "redis://127.0.0.1:6390", AUTH_JWT_SECRET: "s" };

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      host: "0.0.0.0",
      port: 9001,
      orderApiUrl: "127.0.0.1:50051",
      anonymousAllOrders: false,
      maxConnections: 100_000,
      maxChannelsPerConn: 128,
      maxPayloadBytes: 65_536,
      maxBackpressureBytes: 1_048_576,
      idleTimeoutS: 120,
      rateLimitPerS: 100,
      rateLimitBurst: 200,
      drainWindowMs: 10_000,
      shutdownTimeoutMs: 25_000,
      logLevel: "info",
      partitions: 12,
      workers: 1,
      workerIndex: undefined,
      connectTimeoutMs: 10_000,
      allowedOrigins: undefined,
      validateFrames: false,
      compression: "off",
    });
    expect(c.nodeId.length).toBeGreaterThan(0);
  });

  it("reads the protocol v1 settings: connect timeout, allowed origins (normalized), frame validation", () => {
    const c = loadConfig({
      ...base,
      EDGE_CONNECT_TIMEOUT_MS: "2500",
      EDGE_ALLOWED_ORIGINS: " https://App.Example.com/ ,http://localhost:3000,null",
      EDGE_VALIDATE_FRAMES: "true",
    });
    expect(c.connectTimeoutMs).toBe(2500);
    expect([...(c.allowedOrigins ?? [])]).toEqual(["https://app.example.com", "http://localhost:3000", "null"]);
    expect(c.validateFrames).toBe(true);
  });

  it("reads EDGE_COMPRESSION and refuses a mode uWS does not have, naming the variable", () => {
    expect(loadConfig({ ...base, EDGE_COMPRESSION: "shared" }).compression).toBe("shared");
    expect(loadConfig({ ...base, EDGE_COMPRESSION: "dedicated-32kb" }).compression).toBe("dedicated-32kb");
    expect(() => loadConfig({ ...base, EDGE_COMPRESSION: "on" })).toThrow(/EDGE_COMPRESSION/);
    expect(() => loadConfig({ ...base, EDGE_COMPRESSION: "dedicated-5kb" })).toThrow(/EDGE_COMPRESSION/);
  });

  it("reads EDGE_WORKERS and refuses a count outside 1-64", () => {
    expect(loadConfig({ ...base, EDGE_WORKERS: "4" }).workers).toBe(4);
    expect(() => loadConfig({ ...base, EDGE_WORKERS: "0" })).toThrow(/EDGE_WORKERS/);
    expect(() => loadConfig({ ...base, EDGE_WORKERS: "65" })).toThrow(/EDGE_WORKERS/);
    expect(() => loadConfig({ ...base, EDGE_WORKERS: "many" })).toThrow(/EDGE_WORKERS/);
  });

  it("sizes EDGE_WORKERS=auto to MAX_CONNECTIONS under the open-file limit", () => {
    // 19,744 sockets per process under a limit of 20,000 (256 kept for Redis, gRPC, logs)
    expect(autoWorkers(1_000_000, 20_000)).toBe(51);
    expect(autoWorkers(19_744, 20_000)).toBe(1);
    expect(autoWorkers(19_745, 20_000)).toBe(2);
    expect(autoWorkers(10_000_000, 20_000)).toBe(64);
    const limit = openFileLimit();
    expect(loadConfig({ ...base, EDGE_WORKERS: "auto", MAX_CONNECTIONS: "1000" }).workers).toBe(autoWorkers(1000, limit));
  });

  it("reads every variable, including booleans and a cluster URL", () => {
    const c = loadConfig({
      ...base,
      REDIS_URL: "redis://a:7000,redis://b:7001",
      EDGE_PORT: "9002",
      NODE_ID: "edge-2",
      ANONYMOUS_ALL_ORDERS: "true",
      MAX_CONNECTIONS: "10",
      RATE_LIMIT_PER_S: "2.5",
      DRAIN_WINDOW_MS: "0",
    });
    expect(c).toMatchObject({ port: 9002, nodeId: "edge-2", anonymousAllOrders: true, maxConnections: 10, rateLimitPerS: 2.5, drainWindowMs: 0 });
  });

  it("reads the token keys (several HS256 secrets, or a JWKS alone) and TLS towards order-api", () => {
    const c = loadConfig({ ...base, AUTH_JWT_SECRET: "new,old" });
    expect(c.authKeys.hs256Secrets).toEqual(["new", "old"]);
    expect(c.serviceTokenSecret).toBe("new");
    expect(c.orderApiTls).toBeUndefined();
    const j = loadConfig({ ...base, AUTH_JWT_SECRET: undefined, AUTH_JWKS_URL: "https://id.example/jwks", ORDER_API_TLS: "true" });
    expect(j.authKeys).toMatchObject({ hs256Secrets: [], jwks: { url: "https://id.example/jwks" }, algorithms: ["RS256", "ES256"] });
    expect(j.serviceTokenSecret).toBeUndefined();
    expect(j.orderApiTls).toEqual({ ca: undefined });
    const ca = loadConfig({ ...base, ORDER_API_TLS_CA: new URL(import.meta.url).pathname });
    expect(ca.orderApiTls?.ca).toBeInstanceOf(Buffer);
  });

  it.each([
    [{ AUTH_JWT_SECRET: "a,,b" }, "AUTH_JWT_SECRET"],
    [{ AUTH_JWKS_URL: "not a url" }, "AUTH_JWKS_URL"],
    [{ AUTH_PUBLIC_KEY_FILE: "/nonexistent/key.pem" }, "AUTH_PUBLIC_KEY_FILE"],
    [{ AUTH_JWKS_URL: "https://id.example/jwks", AUTH_JWT_ALGORITHMS: "HS512" }, "AUTH_JWT_ALGORITHMS"],
    [{ ORDER_API_TLS_CA: "/nonexistent/ca.pem" }, "ORDER_API_TLS_CA"],
    [{ ORDER_API_TLS: "perhaps" }, "ORDER_API_TLS"],
    [{ REDIS_URL: undefined }, "REDIS_URL"],
    [{ REDIS_URL: "localhost:6379" }, "REDIS_URL"],
    [{ AUTH_JWT_SECRET: undefined }, "AUTH_JWT_SECRET"],
    [{ EDGE_PORT: "70000" }, "EDGE_PORT"],
    [{ EDGE_PORT: "abc" }, "EDGE_PORT"],
    [{ ANONYMOUS_ALL_ORDERS: "maybe" }, "ANONYMOUS_ALL_ORDERS"],
    [{ MAX_PAYLOAD_BYTES: "10" }, "MAX_PAYLOAD_BYTES"],
    [{ RATE_LIMIT_PER_S: "-1" }, "RATE_LIMIT_PER_S"],
    [{ ORDER_API_URL: "http://x" }, "ORDER_API_URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ DRAIN_WINDOW_MS: "30000" }, "DRAIN_WINDOW_MS"],
    [{ IDLE_TIMEOUT_S: "2" }, "IDLE_TIMEOUT_S"],
    [{ EDGE_CONNECT_TIMEOUT_MS: "0" }, "EDGE_CONNECT_TIMEOUT_MS"],
    [{ EDGE_ALLOWED_ORIGINS: "example.com" }, "EDGE_ALLOWED_ORIGINS"],
    [{ EDGE_ALLOWED_ORIGINS: "https://a.example/path" }, "EDGE_ALLOWED_ORIGINS"],
    [{ EDGE_VALIDATE_FRAMES: "sometimes" }, "EDGE_VALIDATE_FRAMES"],
  ])("stops on a bad value and names the variable (%j)", (patch, name) => {
    const env: Record<string, string | undefined> = { ...base, ...patch };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
