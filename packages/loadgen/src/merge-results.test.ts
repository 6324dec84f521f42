import { describe, expect, it } from "vitest";
import { Aggregator } from "./aggregator.js";
import { MergeRefusedError, mergeResults, type NamedResult } from "./merge-results.js";
import { newHistogram, StatsCollector } from "./stats.js";
import type { ScenarioResult } from "./types.js";

/** A slice's result built the way runScenario builds one: samples through a collector and the aggregator. */
function sliceResult(index: number, total: number, samplesMs: number[], startMs: number, runId = "run-1"): ScenarioResult {
  const stats = new StatsCollector();
  for (const ms of samplesMs) stats.record("delivery", ms);
  stats.record("rpc", 1 + index);
  stats.counters.messages = samplesMs.length;
  stats.counters.connects = 10;
  stats.counters.ordersCreated = 5;
  stats.requestError("UNAVAILABLE");
  const agg = new Aggregator(startMs);
  agg.add("w0", stats.takeDelta(), startMs + 1500);
  stats.dispose();
  return {
    scenario: "e2e",
    params: { sockets: 30, slice: { index, total }, runId },
    startedAt: new Date(startMs).toISOString(),
    durationMs: 3000,
    workers: 1,
    ok: true,
    failures: [],
    counts: agg.counts,
    latency: agg.latency(),
    latencyCurve: agg.latencyCurve(),
    throughput: agg.timeline(),
    delivery: {
      expected: samplesMs.length + 1,
      received: samplesMs.length,
      missing: 1,
      duplicates: 0,
      lossRatio: 1 / (samplesMs.length + 1),
    },
    client: { loopLagP99Ms: 3 + index, loopLagMaxMs: 10 * (index + 1) },
    warnings: [],
    run: { id: runId, total, indexes: [index] },
    raw: agg.raw(),
  };
}

function withoutRaw(r: ScenarioResult): ScenarioResult {
  const { raw: _raw, ...rest } = r;
  return rest;
}

const samples = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

describe("mergeResults", () => {
  const t0 = Date.parse("2026-01-01T00:00:00.000Z");
  const a = samples(1000, (i) => 1 + (i % 50));
  const b = samples(500, (i) => 100 + i);
  const c = samples(10, (i) => 5000 + i * 100);
  const inputs: NamedResult[] = [
    { name: "a.json", result: sliceResult(0, 3, a, t0) },
    { name: "b.json", result: sliceResult(1, 3, b, t0 + 2000) },
    { name: "c.json", result: sliceResult(2, 3, c, t0 + 400) },
  ];

  it("adds counters and merges histograms exactly: percentiles equal those of all samples together", () => {
    const m = mergeResults(inputs);
    // what one process measuring every sample would report
    const one = new StatsCollector();
    for (const ms of [...a, ...b, ...c]) one.record("delivery", ms);
    const agg = new Aggregator(t0);
    agg.add("w0", one.takeDelta(), t0);
    one.dispose();
    expect(m.latency["delivery"]).toEqual(agg.latency()["delivery"]);
    expect(m.latencyCurve["delivery"]).toEqual(agg.latencyCurve()["delivery"]);
    expect(m.latency["rpc"]?.count).toBe(3);
    expect(m.counts).toMatchObject({ messages: 1510, connects: 30, ordersCreated: 15, requestErrors: { UNAVAILABLE: 3 } });
    expect(m.delivery).toEqual({ expected: 1513, received: 1510, missing: 3, duplicates: 0, lossRatio: 3 / 1513 });
    expect(m.client).toEqual({ loopLagP99Ms: 5, loopLagMaxMs: 30 });
    expect(m.workers).toBe(3);
    expect(m.run).toEqual({ id: "run-1", total: 3, indexes: [0, 1, 2] });
    expect(m.params).not.toHaveProperty("slice");
    // wall-clock span: from the first start to the last end (b starts 2 s late, runs 3 s)
    expect(m.startedAt).toBe("2026-01-01T00:00:00.000Z");
    expect(m.durationMs).toBe(5000);
  });

  it("aligns timelines on wall time and merges each second's delivery histograms", () => {
    const m = mergeResults(inputs);
    // a's and c's samples land in their second 1 (shifted 0), b's in its second 1 (shifted 2 s)
    expect(m.throughput.map((p) => p.messages)).toEqual([0, 1010, 0, 500]);
    expect(Math.abs((m.throughput[3]?.p50 ?? 0) - (b[250] as number))).toBeLessThan(1); // 3 significant digits
    const ac = newHistogram();
    for (const ms of [...a, ...c]) ac.recordValue(Math.round(ms * 1000));
    expect(m.throughput[1]?.p99).toBe(ac.getValueAtPercentile(99) / 1000);
  });

  it("merges a merged result again, and says which slices are missing", () => {
    const ab = mergeResults(inputs.slice(0, 2));
    expect(ab.warnings[0]).toBe("1 of 3 slices are not in this report (missing index 2)");
    const all = mergeResults([
      { name: "ab.json", result: ab },
      { name: "c.json", result: inputs[2]?.result as ScenarioResult },
    ]);
    expect(all.latency).toEqual(mergeResults(inputs).latency);
    expect(all.warnings).toEqual([]);
  });

  it("prefixes each slice's failures and warnings with its index", () => {
    const failed = { ...sliceResult(1, 3, b, t0), ok: false, failures: ["loss 1/501 exceeds --max-loss 0"], warnings: ["busy"] };
    const m = mergeResults([
      { name: "a.json", result: sliceResult(0, 3, a, t0) },
      { name: "b.json", result: failed },
    ]);
    expect(m.ok).toBe(false);
    expect(m.failures).toEqual(["slice 1: loss 1/501 exceeds --max-loss 0"]);
    expect(m.warnings).toContain("slice 1: busy");
  });

  it.each([
    [
      "different runs",
      [sliceResult(0, 2, a, t0, "run-1"), sliceResult(1, 2, b, t0, "run-2")],
      "x0.json is run run-1, x1.json is run run-2: results of different runs are not merged",
    ],
    ["a slice twice", [sliceResult(1, 2, a, t0), sliceResult(1, 2, b, t0)], "x0.json and x1.json both hold slice 1 of run run-1"],
    ["different slice counts", [sliceResult(0, 2, a, t0), sliceResult(1, 3, b, t0)], "x0.json is one of 2 slices, x1.json one of 3"],
    [
      "different scenarios",
      [sliceResult(0, 2, a, t0), { ...sliceResult(1, 2, b, t0), scenario: "ws-subscribe" as const }],
      "x1.json is ws-subscribe",
    ],
    ["no histograms", [sliceResult(0, 2, a, t0), withoutRaw(sliceResult(1, 2, b, t0))], "x1.json has no histograms"],
  ])("refuses %s", (_what, results, message) => {
    const named = (results as ScenarioResult[]).map((result, i) => ({ name: `x${i}.json`, result }));
    expect(() => mergeResults(named)).toThrow(MergeRefusedError);
    expect(() => mergeResults(named)).toThrow(message);
  });
});
