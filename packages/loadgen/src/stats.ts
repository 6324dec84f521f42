import * as hdr from "hdr-histogram-js";
import { type LoopLag, LoopLagMonitor } from "./loop-lag.js";

/** Histogram kinds; values are recorded in microseconds. */
export type HistKind = "delivery" | "connect" | "rpc";

/** Additive counters shared by every scenario. */
export interface CounterSet {
  connects: number;
  connectErrors: number;
  subscribed: number;
  messages: number;
  bytes: number;
  requests: number;
  ordersCreated: number;
}

/** What a collector accumulated since the last delta: plain data, safe to send over IPC. */
export interface StatsDelta {
  counters: CounterSet;
  closes: Record<string, number>;
  errors: Record<string, number>;
  connectErrorReasons: Record<string, number>;
  requestErrors: Record<string, number>;
  /** Sockets open right now (a gauge, not a delta). */
  open: number;
  /** Compressed base64 HDR histograms of the interval, by kind. */
  hists: Partial<Record<HistKind, string>>;
  /** Event-loop delay of the reporting process over the interval. */
  lag: LoopLag;
}

/** A new HDR histogram in microseconds (1 µs .. 1 h, 3 significant digits). */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

function zeroCounters(): CounterSet {
  return { connects: 0, connectErrors: 0, subscribed: 0, messages: 0, bytes: 0, requests: 0, ordersCreated: 0 };
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Records one process's measurements and hands them out as interval deltas. */
export class StatsCollector {
  counters = zeroCounters();
  open = 0;
  private closes: Record<string, number> = {};
  private errors: Record<string, number> = {};
  private connectErrorReasons: Record<string, number> = {};
  private requestErrors: Record<string, number> = {};
  private hists = new Map<HistKind, hdr.Histogram>();
  private readonly lag = new LoopLagMonitor();

  /** Records a latency in milliseconds (fractions kept to the microsecond). */
  record(kind: HistKind, ms: number): void {
    let h = this.hists.get(kind);
    if (!h) {
      h = newHistogram();
      this.hists.set(kind, h);
    }
    h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Counts a close not initiated by the tool. */
  close(code: number): void {
    bump(this.closes, String(code));
  }

  /** Counts an error frame or stream error by code. */
  error(code: string): void {
    bump(this.errors, code);
  }

  /** Counts a failed connection attempt by reason. */
  connectError(reason: string): void {
    this.counters.connectErrors++;
    bump(this.connectErrorReasons, reason);
  }

  /** Counts a failed RPC by gRPC status name. */
  requestError(code: string): void {
    bump(this.requestErrors, code);
  }

  /** Stops the event-loop monitor (the collector keeps working without lag figures). */
  dispose(): void {
    this.lag.stop();
  }

  /** Everything since the previous call; resets the interval state. */
  takeDelta(): StatsDelta {
    const hists: Partial<Record<HistKind, string>> = {};
    for (const [kind, h] of this.hists) {
      if (h.totalCount > 0) hists[kind] = hdr.encodeIntoCompressedBase64(h);
      h.reset();
    }
    const d: StatsDelta = {
      counters: this.counters,
      closes: this.closes,
      errors: this.errors,
      connectErrorReasons: this.connectErrorReasons,
      requestErrors: this.requestErrors,
      open: this.open,
      hists,
      lag: this.lag.take(),
    };
    this.counters = zeroCounters();
    this.closes = {};
    this.errors = {};
    this.connectErrorReasons = {};
    this.requestErrors = {};
    return d;
  }
}

/** Adds every entry of `from` into `into`. */
export function mergeCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) bump(into, k, v);
}

/** Decodes a histogram sent by {@link StatsCollector.takeDelta}. */
export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}
