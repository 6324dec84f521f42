import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root. */
export const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

/** One row of the metric list in docs/metrics.md. */
export interface ListedMetric {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary";
  labels: string[];
}

/** The metric list: the table rows of docs/metrics.md whose first cell is a backquoted name. */
export function listedMetrics(): ListedMetric[] {
  const text = readFileSync(join(ROOT, "docs/metrics.md"), "utf8");
  const out: ListedMetric[] = [];
  for (const m of text.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \|\s*(counter|gauge|histogram|summary)\s*\|([^|]*)\|/gm)) {
    const labels = (m[3] ?? "").split(",").map((l) => l.trim()).filter(Boolean);
    out.push({ name: m[1] as string, type: m[2] as ListedMetric["type"], labels });
  }
  return out;
}

/** Node's standard metrics (prom-client defaults) that dashboards and rules may name besides the list. */
export const STANDARD_METRIC = /^(process|nodejs)_[a-z0-9_]+$/;

/** The series names a histogram adds to its base name. */
const SERIES_SUFFIXES = ["_bucket", "_sum", "_count"];

/** Whether a series `name` named in PromQL belongs to a listed metric or a standard one. */
export function isKnownSeries(name: string, listed: readonly ListedMetric[]): boolean {
  if (STANDARD_METRIC.test(name)) return true;
  return listed.some(
    (m) => m.name === name || ((m.type === "histogram" || m.type === "summary") && SERIES_SUFFIXES.some((s) => m.name + s === name)),
  );
}

/** PromQL's functions, aggregations and keywords: identifiers that are not metric names. */
const PROMQL_WORDS = new Set(
  (
    "sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring group_left group_right " +
    "bool and or unless offset rate irate increase delta idelta deriv histogram_quantile abs ceil floor round clamp clamp_min " +
    "clamp_max absent absent_over_time changes resets time vector scalar label_replace label_join sort sort_desc " +
    "avg_over_time min_over_time max_over_time sum_over_time count_over_time last_over_time predict_linear timestamp le inf nan"
  ).split(" "),
);

/**
 * The metric names a PromQL expression reads: identifiers outside label matchers, strings and
 * range selectors that are not PromQL words, label names of `by (…)` / `on (…)` lists or
 * `$variables`.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "$1()")
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, "0");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice((m.index ?? 0) + word.length).trimStart();
    if (PROMQL_WORDS.has(word.toLowerCase()) || after.startsWith("(")) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}
