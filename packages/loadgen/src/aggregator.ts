import * as hdr from "hdr-histogram-js";
import { decodeHistogram, type HistKind, mergeCounts, newHistogram, type StatsDelta } from "./stats.js";
import type { Counts, Percentiles, RawHistograms, TimelinePoint } from "./types.js";

const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

/** Percentiles in milliseconds of a microsecond histogram. */
export function percentilesOf(h: hdr.Histogram): Percentiles {
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    mean: Math.round(h.mean) / 1000,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** Latency by percentile of a microsecond histogram, for plots: [[percentile, ms], …]. */
export function curveOf(h: hdr.Histogram): [number, number][] {
  return CURVE_PERCENTILES.map((q) => [q, (q === 100 ? h.maxValue : h.getValueAtPercentile(q)) / 1000]);
}

/**
 * Merges deltas from every worker (or the in-process collector) into run totals, whole-run
 * histograms and a per-second timeline keyed by the parent's clock.
 */
/** Counts of a run that has seen nothing yet. */
export function emptyCounts(): Counts {
  return {
    connects: 0,
    connectErrors: 0,
    connectErrorReasons: {},
    closes: {},
    subscribed: 0,
    messages: 0,
    bytes: 0,
    errors: {},
    requests: 0,
    requestErrors: {},
    ordersCreated: 0,
    maxOpen: 0,
  };
}

export class Aggregator {
  readonly counts: Counts = emptyCounts();
  private readonly totals = new Map<HistKind, hdr.Histogram>();
  private readonly perSecond = new Map<number, { point: TimelinePoint; hist?: hdr.Histogram }>();
  private readonly openBySource = new Map<string, number>();
  /** Worst event-loop delay seen in any process while {@link measuring} (ms): interval p99 and max. */
  readonly clientLag = { p99Ms: 0, maxMs: 0 };
  /** Lag counts toward {@link clientLag} only while set (the driver clears it for ramp-up and stop). */
  measuring = true;
  private lastLag = 0;

  constructor(private readonly startMs: number) {}

  /** Sockets open now, summed over sources. */
  get open(): number {
    let n = 0;
    for (const v of this.openBySource.values()) n += v;
    return n;
  }

  /** Folds one delta from `source` (a worker id) in, at wall time `nowMs`. */
  add(source: string, d: StatsDelta, nowMs = Date.now()): void {
    const c = this.counts;
    c.connects += d.counters.connects;
    c.connectErrors += d.counters.connectErrors;
    c.subscribed += d.counters.subscribed;
    c.messages += d.counters.messages;
    c.bytes += d.counters.bytes;
    c.requests += d.counters.requests;
    c.ordersCreated += d.counters.ordersCreated;
    mergeCounts(c.closes, d.closes);
    mergeCounts(c.errors, d.errors);
    mergeCounts(c.connectErrorReasons, d.connectErrorReasons);
    mergeCounts(c.requestErrors, d.requestErrors);
    this.openBySource.set(source, d.open);
    if (this.measuring) {
      this.clientLag.p99Ms = Math.max(this.clientLag.p99Ms, d.lag.p99Ms);
      this.clientLag.maxMs = Math.max(this.clientLag.maxMs, d.lag.maxMs);
    }
    this.lastLag = Math.max(this.lastLag, d.lag.p99Ms);
    const open = this.open;
    if (open > c.maxOpen) c.maxOpen = open;

    const second = Math.max(0, Math.floor((nowMs - this.startMs) / 1000));
    let slot = this.perSecond.get(second);
    if (!slot) {
      slot = {
        point: { t: second, open, connects: 0, connectErrors: 0, messages: 0, bytes: 0, requests: 0, errors: 0 },
      };
      this.perSecond.set(second, slot);
    }
    const p = slot.point;
    p.open = open;
    p.connects += d.counters.connects;
    p.connectErrors += d.counters.connectErrors;
    p.messages += d.counters.messages;
    p.bytes += d.counters.bytes;
    p.requests += d.counters.requests;
    p.errors += sum(d.errors) + sum(d.requestErrors);

    for (const [kind, enc] of Object.entries(d.hists) as [HistKind, string][]) {
      const h = decodeHistogram(enc);
      let total = this.totals.get(kind);
      if (!total) {
        total = newHistogram();
        this.totals.set(kind, total);
      }
      total.add(h);
      if (kind === "delivery") {
        slot.hist ??= newHistogram();
        slot.hist.add(h);
      }
      h.destroy();
    }
  }

  /** Highest interval p99 event-loop delay reported since the previous call (ms). */
  takeRecentLag(): number {
    const v = this.lastLag;
    this.lastLag = 0;
    return v;
  }

  /** The timeline point of the last complete second, for progress display. */
  lastSecond(nowMs = Date.now()): TimelinePoint | undefined {
    const second = Math.floor((nowMs - this.startMs) / 1000) - 1;
    const slot = this.perSecond.get(second);
    if (!slot) return undefined;
    return this.finishPoint(slot);
  }

  private finishPoint(slot: { point: TimelinePoint; hist?: hdr.Histogram }): TimelinePoint {
    const p = { ...slot.point };
    if (slot.hist && slot.hist.totalCount > 0) {
      p.p50 = slot.hist.getValueAtPercentile(50) / 1000;
      p.p99 = slot.hist.getValueAtPercentile(99) / 1000;
    }
    return p;
  }

  /** One point per second from 0 to the last second seen (gaps filled, open carried over). */
  timeline(): TimelinePoint[] {
    const last = Math.max(-1, ...this.perSecond.keys());
    const out: TimelinePoint[] = [];
    let open = 0;
    for (let t = 0; t <= last; t++) {
      const slot = this.perSecond.get(t);
      if (slot) {
        const p = this.finishPoint(slot);
        open = p.open;
        out.push(p);
      } else {
        out.push({ t, open, connects: 0, connectErrors: 0, messages: 0, bytes: 0, requests: 0, errors: 0 });
      }
    }
    return out;
  }

  /** Whole-run percentiles by kind (kinds without samples are left out). */
  latency(): Record<string, Percentiles> {
    const out: Record<string, Percentiles> = {};
    for (const [kind, h] of this.totals) if (h.totalCount > 0) out[kind] = percentilesOf(h);
    return out;
  }

  /** Latency by percentile for plots: kind → [[percentile, ms], …]. */
  latencyCurve(): Record<string, [number, number][]> {
    const out: Record<string, [number, number][]> = {};
    for (const [kind, h] of this.totals) {
      if (h.totalCount > 0) out[kind] = curveOf(h);
    }
    return out;
  }

  /** The whole-run and per-second histograms, encoded, for `orderstream-load merge`. */
  raw(): RawHistograms {
    const latency: Record<string, string> = {};
    for (const [kind, h] of this.totals) if (h.totalCount > 0) latency[kind] = hdr.encodeIntoCompressedBase64(h);
    const last = Math.max(-1, ...this.perSecond.keys());
    const deliveryPerSecond: (string | null)[] = [];
    for (let t = 0; t <= last; t++) {
      const h = this.perSecond.get(t)?.hist;
      deliveryPerSecond.push(h && h.totalCount > 0 ? hdr.encodeIntoCompressedBase64(h) : null);
    }
    return { latency, deliveryPerSecond };
  }

  /** p99 of delivery latency over the whole run so far (ms). */
  deliveryP99(): number | undefined {
    const h = this.totals.get("delivery");
    return h && h.totalCount > 0 ? h.getValueAtPercentile(99) / 1000 : undefined;
  }
}

function sum(m: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(m)) n += v;
  return n;
}
