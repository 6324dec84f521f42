import * as hdr from "hdr-histogram-js";
import { curveOf, emptyCounts, percentilesOf } from "./aggregator.js";
import { mergeDelivery } from "./delivery-tracker.js";
import { mergeCounts, newHistogram } from "./stats.js";
import type { Counts, DeliveryReport, Percentiles, RawHistograms, ScenarioResult, TimelinePoint } from "./types.js";

/** Results that must not be merged (different runs, no histograms, a slice twice); the CLI exits 2. */
export class MergeRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MergeRefusedError";
  }
}

/** A result and the name it is reported under (its file). */
export interface NamedResult {
  name: string;
  result: ScenarioResult;
}

/** The warning of a merge that lacks slices (recomputed, not carried, when merged again). */
const MISSING_SLICES = "are not in this report";

function checkMergeable(inputs: NamedResult[]): void {
  if (inputs.length === 0) throw new MergeRefusedError("nothing to merge: give one or more result files");
  for (const { name, result } of inputs) {
    if (!result.raw || !result.run)
      throw new MergeRefusedError(`${name} has no histograms (written by orderstream-load before 0.4?): rerun to get a mergeable result`);
  }
  const first = inputs[0] as NamedResult;
  const run = first.result.run as NonNullable<ScenarioResult["run"]>;
  const owner = new Map<number, string>();
  for (const { name, result } of inputs) {
    const r = result.run as NonNullable<ScenarioResult["run"]>;
    if (r.id !== run.id)
      throw new MergeRefusedError(`${first.name} is run ${run.id}, ${name} is run ${r.id}: results of different runs are not merged`);
    if (result.scenario !== first.result.scenario)
      throw new MergeRefusedError(`${first.name} is scenario ${first.result.scenario}, ${name} is ${result.scenario}: not merged`);
    if (r.total !== run.total)
      throw new MergeRefusedError(`${first.name} is one of ${run.total} slices, ${name} one of ${r.total}: not the same run`);
    for (const i of r.indexes) {
      const seen = owner.get(i);
      if (seen !== undefined)
        throw new MergeRefusedError(`${seen} and ${name} both hold slice ${i} of run ${run.id}: merging would count it twice`);
      owner.set(i, name);
    }
  }
}

function decodeAll(encoded: (string | null | undefined)[]): hdr.Histogram | undefined {
  let total: hdr.Histogram | undefined;
  for (const e of encoded) {
    if (!e) continue;
    const h = hdr.decodeFromCompressedBase64(e);
    total ??= newHistogram();
    total.add(h);
  }
  return total;
}

function encode(h: hdr.Histogram | undefined): string | null {
  return h && h.totalCount > 0 ? hdr.encodeIntoCompressedBase64(h) : null;
}

function sumCounts(all: Counts[]): Counts {
  const c: Counts = emptyCounts();
  for (const x of all) {
    for (const k of ["connects", "connectErrors", "subscribed", "messages", "bytes", "requests", "ordersCreated", "maxOpen"] as const)
      c[k] += x[k];
    mergeCounts(c.connectErrorReasons, x.connectErrorReasons);
    mergeCounts(c.closes, x.closes);
    mergeCounts(c.errors, x.errors);
    mergeCounts(c.requestErrors, x.requestErrors);
  }
  return c;
}

/**
 * Adds the slices' timelines second by second, each shifted by its start time relative to the
 * earliest slice; per-second delivery percentiles come from the merged per-second histograms.
 */
function mergeTimelines(results: ScenarioResult[], startMs: number): { points: TimelinePoint[]; perSecond: (string | null)[] } {
  const slots: { point: TimelinePoint; hists: (string | null)[] }[] = [];
  for (const r of results) {
    const shift = Math.max(0, Math.round((Date.parse(r.startedAt) - startMs) / 1000));
    r.throughput.forEach((p, i) => {
      const t = p.t + shift;
      slots[t] ??= { point: { t, open: 0, connects: 0, connectErrors: 0, messages: 0, bytes: 0, requests: 0, errors: 0 }, hists: [] };
      const s = slots[t];
      for (const k of ["open", "connects", "connectErrors", "messages", "bytes", "requests", "errors"] as const) s.point[k] += p[k];
      s.hists.push(r.raw?.deliveryPerSecond[i] ?? null);
    });
  }
  const points: TimelinePoint[] = [];
  const perSecond: (string | null)[] = [];
  for (let t = 0; t < slots.length; t++) {
    // a second no slice reported (a gap between slices' start times): zeros
    const s = slots[t] ?? {
      point: { t, open: 0, connects: 0, connectErrors: 0, messages: 0, bytes: 0, requests: 0, errors: 0 },
      hists: [],
    };
    const h = decodeAll(s.hists);
    const p = { ...s.point };
    if (h && h.totalCount > 0) {
      p.p50 = h.getValueAtPercentile(50) / 1000;
      p.p99 = h.getValueAtPercentile(99) / 1000;
    }
    points.push(p);
    perSecond.push(encode(h));
  }
  return { points, perSecond };
}

function mergeLatency(results: ScenarioResult[]): {
  latency: Record<string, Percentiles>;
  curve: Record<string, [number, number][]>;
  raw: Record<string, string>;
} {
  const kinds = [...new Set(results.flatMap((r) => Object.keys(r.raw?.latency ?? {})))];
  const latency: Record<string, Percentiles> = {};
  const curve: Record<string, [number, number][]> = {};
  const raw: Record<string, string> = {};
  for (const kind of kinds) {
    const h = decodeAll(results.map((r) => r.raw?.latency[kind]));
    if (!h || h.totalCount === 0) continue;
    latency[kind] = percentilesOf(h);
    curve[kind] = curveOf(h);
    raw[kind] = hdr.encodeIntoCompressedBase64(h);
  }
  return { latency, curve, raw };
}

/**
 * Merges the results of a run's slices into one: counters added, histograms merged exactly and
 * percentiles recomputed, timelines aligned on wall time. Refuses ({@link MergeRefusedError})
 * results of different runs, scenarios or slice counts, a slice given twice, or results without
 * histograms. The merged result is mergeable again.
 */
export function mergeResults(inputs: NamedResult[]): ScenarioResult {
  checkMergeable(inputs);
  const results = inputs.map((x) => x.result);
  const first = results[0] as ScenarioResult;
  const run = first.run as NonNullable<ScenarioResult["run"]>;
  const indexes = results.flatMap((r) => r.run?.indexes ?? []).sort((a, b) => a - b);
  const startMs = Math.min(...results.map((r) => Date.parse(r.startedAt)));
  const endMs = Math.max(...results.map((r) => Date.parse(r.startedAt) + r.durationMs));
  // a merged input's lines already name their slice
  const tag = (r: ScenarioResult, s: string): string =>
    results.length > 1 && r.run?.indexes.length === 1 ? `slice ${r.run.indexes[0]}: ${s}` : s;
  const failures = results.flatMap((r) => r.failures.map((f) => tag(r, f)));
  const carried = results.flatMap((r) => r.warnings.filter((w) => !w.includes(MISSING_SLICES)).map((w) => tag(r, w)));
  const warnings = [...new Set(carried)];
  const absent = Array.from({ length: run.total }, (_, i) => i).filter((i) => !indexes.includes(i));
  if (absent.length > 0) warnings.unshift(`${absent.length} of ${run.total} slices ${MISSING_SLICES} (missing index ${absent.join(", ")})`);
  const deliveries = results.map((r) => r.delivery).filter((d): d is DeliveryReport => d !== undefined);
  const { latency, curve, raw } = mergeLatency(results);
  const timeline = mergeTimelines(results, startMs);
  const { slice: _slice, ...params } = first.params;
  const merged: RawHistograms = { latency: raw, deliveryPerSecond: timeline.perSecond };
  return {
    scenario: first.scenario,
    params,
    startedAt: new Date(startMs).toISOString(),
    durationMs: endMs - startMs,
    workers: results.reduce((n, r) => n + r.workers, 0),
    ok: failures.length === 0,
    failures,
    counts: sumCounts(results.map((r) => r.counts)),
    latency,
    latencyCurve: curve,
    throughput: timeline.points,
    ...(deliveries.length > 0 ? { delivery: mergeDelivery(deliveries) } : {}),
    client: {
      loopLagP99Ms: Math.max(...results.map((r) => r.client.loopLagP99Ms)),
      loopLagMaxMs: Math.max(...results.map((r) => r.client.loopLagMaxMs)),
    },
    warnings,
    run: { id: run.id, total: run.total, indexes },
    raw: merged,
  };
}
