import { splitRange } from "./socket-plan.js";
import type { ScenarioOptions, SliceShare } from "./types.js";

// A run spread over several machines: slice `index` of `total` (an indexed Job's pods) takes a
// contiguous part of the sockets and streams and an equal part of the rates, so the whole run's
// figures are the ones given on the command line.

/** The share of `opts` that slice `opts.slice` runs (the whole run when there is no slice). */
export function sliceShare(opts: ScenarioOptions): SliceShare {
  const total = opts.slice?.total ?? 1;
  const index = opts.slice?.index ?? 0;
  const part = (n: number): { start: number; count: number } => splitRange(n, total)[index] ?? { start: 0, count: 0 };
  const sockets = part(opts.sockets);
  const streams = part(opts.streams);
  return {
    socketStart: sockets.start,
    sockets: sockets.count,
    streamStart: streams.start,
    streams: streams.count,
    rate: opts.rate / total,
    rampPerS: opts.rampPerS / total,
    concurrency: part(opts.concurrency).count,
    count: part(opts.count).count,
  };
}

/**
 * Why `opts` cannot be sliced, or undefined: every slice needs at least one socket (stream,
 * closed-loop lane, order of a `--count` bound), else its share would read as "none" or "no bound".
 */
export function sliceProblem(opts: ScenarioOptions): string | undefined {
  const s = opts.slice;
  if (!s) return undefined;
  if (!Number.isInteger(s.total) || s.total < 1) return `--total must be a positive integer, got ${s.total}`;
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.total)
    return `--index must be from 0 to ${s.total - 1} (--total ${s.total}), got ${s.index}`;
  if (s.total > 1 && (opts.runId === undefined || opts.runId === "")) {
    return "--run-id (or LOAD_RUN_ID) is required with --total > 1: every slice of a run must record the same id";
  }
  const atLeast = (flag: string, n: number): string | undefined =>
    n > 0 && n < s.total ? `--${flag} ${n} cannot be split over --total ${s.total} slices (give at least ${s.total}, or 0)` : undefined;
  const usesSockets = opts.scenario === "ws-subscribe" || opts.scenario === "e2e";
  return (
    (usesSockets ? atLeast("sockets", opts.sockets) : undefined) ??
    (opts.scenario === "grpc-subscribe" ? atLeast("streams", opts.streams) : undefined) ??
    atLeast("concurrency", opts.concurrency) ??
    atLeast("count", opts.count)
  );
}

/**
 * The options one slice runs with: its share of sockets, streams, rates and bounds. Its sockets
 * keep their global numbers (`socketStart` + j: URL, user, source port), given to the fleets.
 */
export function sliceOptions(opts: ScenarioOptions, share: SliceShare): ScenarioOptions {
  if (!opts.slice || opts.slice.total === 1) return opts;
  return {
    ...opts,
    sockets: share.sockets,
    streams: share.streams,
    rate: share.rate,
    rampPerS: share.rampPerS,
    concurrency: share.concurrency,
    count: share.count,
  };
}

/**
 * Orders are numbered over the whole run: slice i's n-th order is number n × total + i, so
 * slices never create the same synthetic order and together cover the users as one process would.
 */
export function orderNumbering(opts: ScenarioOptions): { offset: number; stride: number } {
  return { offset: opts.slice?.index ?? 0, stride: opts.slice?.total ?? 1 };
}
