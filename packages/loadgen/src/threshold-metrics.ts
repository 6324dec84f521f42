import type { Percentiles, ScenarioResult } from "./types.js";

/** One metric a threshold can name: what it measures and how to read it from a result. */
export interface ThresholdMetric {
  name: string;
  /** Unit and meaning, for the documentation and messages. */
  description: string;
  /** The value in `r`, or undefined when the run did not measure it. */
  value(r: ScenarioResult): number | undefined;
}

/** Latency kinds of a result (ms). */
export const LATENCY_KINDS = ["delivery", "connect", "rpc"] as const;
/** Statistics of each latency kind. */
export const LATENCY_STATS = ["p50", "p90", "p99", "p999", "max", "mean", "count"] as const;

function sum(m: Record<string, number>): number {
  return Object.values(m).reduce((a, b) => a + b, 0);
}

function ratio(part: number, whole: number): number | undefined {
  return whole === 0 ? undefined : part / whole;
}

function perSecond(r: ScenarioResult, n: number): number {
  return n / Math.max(0.001, r.durationMs / 1000);
}

const latencyMetrics: ThresholdMetric[] = LATENCY_KINDS.flatMap((kind) =>
  LATENCY_STATS.map((stat) => ({
    name: `${kind}.${stat}`,
    description: stat === "count" ? `${kind} latency samples` : `${kind} latency ${stat}, ms`,
    value: (r: ScenarioResult): number | undefined => {
      const p: Percentiles | undefined = r.latency[kind];
      if (stat === "count") return p?.count ?? 0;
      return p === undefined || p.count === 0 ? undefined : p[stat];
    },
  })),
);

/**
 * Every metric a thresholds file may name. Latencies are in ms, `.rate` metrics are fractions
 * (0..1), `.per_s` metrics per second of the run, the rest counts.
 */
export const THRESHOLD_METRICS: readonly ThresholdMetric[] = [
  ...latencyMetrics,
  { name: "loss", description: "e2e: missing / expected deliveries, 0..1", value: (r) => r.delivery?.lossRatio },
  { name: "missing", description: "e2e: deliveries expected but not received", value: (r) => r.delivery?.missing },
  { name: "duplicates", description: "e2e: deliveries received twice", value: (r) => r.delivery?.duplicates },
  { name: "connect_errors", description: "failed connection attempts", value: (r) => r.counts.connectErrors },
  {
    name: "connect_errors.rate",
    description: "failed / all connection attempts, 0..1",
    value: (r) => ratio(r.counts.connectErrors, r.counts.connects + r.counts.connectErrors),
  },
  { name: "closes", description: "connections closed by the server or the network", value: (r) => sum(r.counts.closes) },
  { name: "errors", description: "error frames and stream errors", value: (r) => sum(r.counts.errors) },
  { name: "request_errors", description: "failed RPCs", value: (r) => sum(r.counts.requestErrors) },
  {
    name: "request_errors.rate",
    description: "failed / all RPCs, 0..1",
    value: (r) => ratio(sum(r.counts.requestErrors), r.counts.requests + sum(r.counts.requestErrors)),
  },
  { name: "requests", description: "successful RPCs", value: (r) => r.counts.requests },
  { name: "requests.per_s", description: "successful RPCs per second", value: (r) => perSecond(r, r.counts.requests) },
  { name: "orders_created", description: "orders created", value: (r) => r.counts.ordersCreated },
  { name: "subscribed", description: "sockets and streams subscribed", value: (r) => r.counts.subscribed },
  { name: "messages", description: "events received", value: (r) => r.counts.messages },
  { name: "messages.per_s", description: "events received per second", value: (r) => perSecond(r, r.counts.messages) },
  { name: "event_loop_lag.p99", description: "the tool's worst 1-second p99 event-loop delay, ms", value: (r) => r.client.loopLagP99Ms },
  { name: "event_loop_lag.max", description: "the tool's longest event-loop delay, ms", value: (r) => r.client.loopLagMaxMs },
];

const byName = new Map(THRESHOLD_METRICS.map((m) => [m.name, m]));

/** The metric called `name`, or undefined. */
export function thresholdMetric(name: string): ThresholdMetric | undefined {
  return byName.get(name);
}

/** The metric names in one short line, for error messages. */
export function metricNamesHint(): string {
  const others = THRESHOLD_METRICS.filter((m) => !latencyMetrics.includes(m)).map((m) => m.name);
  return `{${LATENCY_KINDS.join(",")}}.{${LATENCY_STATS.join(",")}}, ${others.join(", ")}`;
}
