import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { THRESHOLD_METRICS } from "./threshold-metrics.js";
import { evaluateThresholds, parseThresholds, ThresholdsError, withThresholds } from "./thresholds.js";
import type { ScenarioResult } from "./types.js";

function result(over: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    scenario: "e2e",
    params: {},
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 10_000,
    workers: 0,
    ok: true,
    failures: [],
    counts: {
      connects: 990,
      connectErrors: 10,
      connectErrorReasons: { ECONNREFUSED: 10 },
      closes: { "1006": 2 },
      subscribed: 990,
      messages: 50_000,
      bytes: 1,
      errors: {},
      requests: 1000,
      requestErrors: { UNAVAILABLE: 1 },
      ordersCreated: 1000,
      maxOpen: 990,
    },
    latency: { delivery: { count: 49_000, mean: 5, p50: 4, p90: 8, p99: 20, p999: 40, max: 90 } },
    latencyCurve: {},
    throughput: [],
    delivery: { expected: 50_000, received: 49_000, missing: 1000, duplicates: 0, lossRatio: 0.02 },
    client: { loopLagP99Ms: 12, loopLagMaxMs: 60 },
    warnings: [],
    ...over,
  };
}

describe("parseThresholds", () => {
  it("reads metric, operator and number per line; comments and blank lines are skipped", () => {
    const t = parseThresholds(
      "# delivery\ndelivery.p99 < 500\n\nloss<=0   # none lost\n  connect_errors.rate < 1e-3\nevent_loop_lag.p99 >= 0.5\n",
    );
    expect(t.map((x) => [x.metric, x.op, x.limit, x.where])).toEqual([
      ["delivery.p99", "<", 500, "thresholds:2"],
      ["loss", "<=", 0, "thresholds:4"],
      ["connect_errors.rate", "<", 0.001, "thresholds:5"],
      ["event_loop_lag.p99", ">=", 0.5, "thresholds:6"],
    ]);
  });

  it.each([
    ["delivery.p99 < 500\nfoo < 3\n", /^t\.txt:2: unknown metric "foo" \(known: \{delivery,connect,rpc\}\.\{p50,.*loss, missing/],
    ["loss =< 0", /^t\.txt:1: bad operator "=<" \(one of < <= > >= ==\)$/],
    ["loss lt 0", /^t\.txt:1: bad operator "lt"/],
    ["\n\n\ndelivery.p99 < 5ms", /^t\.txt:4: bad number "5ms"/],
    ["delivery.p99 <", /^t\.txt:1: bad number ""/],
    ["delivery.p99 < 0x10", /^t\.txt:1: bad number "0x10"/],
    ["just words here and there", /^t\.txt:1: expected "<metric> <operator> <number>", got "just words here and there"$/],
  ])("%j is refused naming the line", (text, message) => {
    expect(() => parseThresholds(text, "t.txt")).toThrow(ThresholdsError);
    expect(() => parseThresholds(text, "t.txt")).toThrow(message);
  });

  it("lists every metric name once", () => {
    const names = THRESHOLD_METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["delivery.p99", "loss", "connect_errors.rate", "event_loop_lag.p99", "rpc.count"]));
  });
});

describe("evaluateThresholds", () => {
  it("reads each metric from a result and compares", () => {
    const t = parseThresholds(
      [
        "delivery.p99 < 500",
        "loss <= 0",
        "connect_errors.rate < 0.001",
        "event_loop_lag.p99 < 100",
        "request_errors.rate < 0.01",
        "messages.per_s >= 5000",
        "closes == 2",
      ].join("\n"),
    );
    expect(evaluateThresholds(t, result()).map((o) => [o.expr, o.value, o.ok])).toEqual([
      ["delivery.p99 < 500", 20, true],
      ["loss <= 0", 0.02, false],
      ["connect_errors.rate < 0.001", 0.01, false],
      ["event_loop_lag.p99 < 100", 12, true],
      ["request_errors.rate < 0.01", 1 / 1001, true],
      ["messages.per_s >= 5000", 5000, true],
      ["closes == 2", 2, true],
    ]);
  });

  it("fails a threshold the run did not measure (no samples, no e2e)", () => {
    const r = result({ latency: {} });
    delete r.delivery;
    const o = evaluateThresholds(parseThresholds("rpc.p99 < 10\nloss <= 0\nrpc.count == 0"), r);
    expect(o.map((x) => [x.ok, x.value])).toEqual([
      [false, undefined],
      [false, undefined],
      [true, 0],
    ]);
  });

  it("withThresholds records the outcomes and turns broken ones into failures", () => {
    const r = withThresholds(result(), parseThresholds("delivery.p99 < 500\nloss <= 0"));
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(["threshold loss <= 0 broken: loss = 0.02"]);
    expect(r.thresholds?.map((t) => t.ok)).toEqual([true, false]);
    expect(withThresholds(result(), parseThresholds("delivery.p99 < 500")).ok).toBe(true);
  });
});

describe("the README's metric table", () => {
  it("documents every metric a thresholds file may name, and no other", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("| metric | meaning |"));
    const rows = table.split("\n").filter((l) => l.startsWith("| `"));
    const names = rows.flatMap((r) => {
      const cell = r.split("|")[1] as string;
      const kinds = [...cell.matchAll(/`(\w+)\.<stat>`/g)].map((m) => m[1] as string);
      if (kinds.length > 0) return kinds.flatMap((k) => ["p50", "p90", "p99", "p999", "max", "mean", "count"].map((s) => `${k}.${s}`));
      return [(/`([\w.]+)`/.exec(cell) as RegExpExecArray)[1] as string];
    });
    expect(names.sort()).toEqual(THRESHOLD_METRICS.map((m) => m.name).sort());
  });
});
