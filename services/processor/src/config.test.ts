import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const base = { REDIS_URL: "redis://127.0.0.1:6390" };

describe("processor config", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      redisUrl: "redis://127.0.0.1:6390",
      logLevel: "info",
      shutdownTimeoutMs: 10_000,
      history: { size: 1000, ttlMs: 600_000, metaTtlMs: 86_400_000 },
      concurrency: 50,
      shipDelayMs: 2000,
      deliverDelayMs: 3000,
      jobAttempts: 5,
      dueSweepIntervalMs: 1000,
      dueGraceMs: 15_000,
      healthPort: 9100,
      queueSampleIntervalMs: 5000,
      partitions: 12,
      assignedPartitions: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      failedJobRetryMs: 60_000,
    });
  });

  it("reads an assigned subset of partitions, and names a bad one", () => {
    expect(loadConfig({ ...base, PARTITIONS: "8", PROCESSOR_PARTITIONS: "0-2,6" }).assignedPartitions).toEqual([0, 1, 2, 6]);
    expect(() => loadConfig({ ...base, PARTITIONS: "8", PROCESSOR_PARTITIONS: "7-9" })).toThrow(/PROCESSOR_PARTITIONS: "7-9" is outside 0-7/);
    expect(() => loadConfig({ ...base, PROCESSOR_PARTITIONS: "x" })).toThrow(/PROCESSOR_PARTITIONS/);
    expect(() => loadConfig({ ...base, PARTITIONS: "0" })).toThrow(/PARTITIONS/);
    expect(() => loadConfig({ ...base, DUE_GRACE_MS: "-1" })).toThrow(/DUE_GRACE_MS/);
    expect(() => loadConfig({ ...base, QUEUE_SAMPLE_INTERVAL_MS: "5" })).toThrow(/QUEUE_SAMPLE_INTERVAL_MS/);
  });

  it("parses set values, 0 delays included, and treats empty values as unset", () => {
    const c = loadConfig({
      ...base,
      SHIP_DELAY_MS: "0",
      DELIVER_DELAY_MS: "250",
      PROCESSOR_CONCURRENCY: "8",
      HEALTH_PORT: "0",
      LOG_LEVEL: "warn",
      JOB_ATTEMPTS: "",
    });
    expect(c.shipDelayMs).toBe(0);
    expect(c.deliverDelayMs).toBe(250);
    expect(c.concurrency).toBe(8);
    expect(c.healthPort).toBe(0);
    expect(c.logLevel).toBe("warn");
    expect(c.jobAttempts).toBe(5);
  });

  it("accepts a comma-separated cluster URL", () => {
    expect(loadConfig({ REDIS_URL: "redis://10.0.0.1:7000, redis://10.0.0.2:7000" }).redisUrl).toContain(",");
  });

  it.each([
    [{}, "REDIS_URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ ...base, PROCESSOR_CONCURRENCY: "0" }, "PROCESSOR_CONCURRENCY"],
    [{ ...base, SHIP_DELAY_MS: "-1" }, "SHIP_DELAY_MS"],
    [{ ...base, DELIVER_DELAY_MS: "soon" }, "DELIVER_DELAY_MS"],
    [{ ...base, JOB_ATTEMPTS: "1.5" }, "JOB_ATTEMPTS"],
    [{ ...base, HEALTH_PORT: "70000" }, "HEALTH_PORT"],
    [{ ...base, LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ ...base, HISTORY_TTL_MS: "600000", HISTORY_META_TTL_MS: "1000" }, "HISTORY_META_TTL_MS"],
  ])("rejects %o naming %s", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
