import { writeFile } from "node:fs/promises";
import { escapeXml, renderLineChart, type Series } from "./svg-chart.js";
import type { ScenarioResult } from "./types.js";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
const CURVE_LABELS = (q: number): string => (q === 0 ? "min" : q === 100 ? "max" : `p${q}`);

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join("")}</table>`;
}

function record(m: Record<string, number>): string {
  const e = Object.entries(m);
  return e.length === 0 ? "none" : e.map(([k, v]) => `${k}: ${v}`).join(", ");
}

function latencyTable(r: ScenarioResult): string {
  const kinds = Object.keys(r.latency);
  if (kinds.length === 0) return "<p>No latency samples.</p>";
  const head = "<tr><th>kind</th><th>count</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>";
  const rows = kinds.map((k) => {
    const p = r.latency[k];
    if (!p) return "";
    const cells = [p.count, p.mean, p.p50, p.p90, p.p99, p.p999, p.max].map((v, i) => `<td>${i === 0 ? v : `${v} ms`}</td>`);
    return `<tr><th>${escapeXml(k)}</th>${cells.join("")}</tr>`;
  });
  return `<table class="lat">${head}${rows.join("")}</table>`;
}

/** Renders a result as one self-contained HTML page: summary tables and inline SVG plots. */
export function renderHtmlReport(r: ScenarioResult): string {
  const kinds = Object.keys(r.latencyCurve);
  const firstCurve = kinds.length > 0 ? r.latencyCurve[kinds[0] as string] : undefined;
  const categories = (firstCurve ?? []).map(([q]) => CURVE_LABELS(q));
  const percentileSeries: Series[] = kinds.map((k, i) => ({
    name: `${k} (ms)`,
    color: COLORS[i % COLORS.length] as string,
    points: (r.latencyCurve[k] ?? []).map(([, ms], j) => [j, ms]),
  }));
  const tl = r.throughput;
  const tMax = tl.length > 0 ? (tl[tl.length - 1] as { t: number }).t : 1;
  const charts = [
    renderLineChart({
      id: "latency-percentiles",
      title: "Latency by percentile",
      xLabel: "percentile",
      yLabel: "ms",
      series: percentileSeries,
      xCategories: categories.length > 0 ? categories : ["p50", "p90", "p99", "max"],
    }),
    renderLineChart({
      id: "latency-over-time",
      title: "Delivery latency over time (per second)",
      xLabel: "seconds",
      xMax: tMax,
      yLabel: "ms",
      series: [
        { name: "p50", color: COLORS[0] as string, points: tl.filter((p) => p.p50 !== undefined).map((p) => [p.t, p.p50 as number]) },
        { name: "p99", color: COLORS[1] as string, points: tl.filter((p) => p.p99 !== undefined).map((p) => [p.t, p.p99 as number]) },
      ],
    }),
    renderLineChart({
      id: "throughput",
      title: "Throughput",
      xLabel: "seconds",
      xMax: tMax,
      yLabel: "per second",
      series: [
        { name: "messages/s", color: COLORS[0] as string, points: tl.map((p) => [p.t, p.messages]) },
        { name: "requests/s", color: COLORS[2] as string, points: tl.map((p) => [p.t, p.requests]) },
        { name: "errors/s", color: COLORS[1] as string, points: tl.map((p) => [p.t, p.errors]) },
      ],
    }),
    renderLineChart({
      id: "connections",
      title: "Connections",
      xLabel: "seconds",
      xMax: tMax,
      yLabel: "count",
      series: [
        { name: "open", color: COLORS[0] as string, points: tl.map((p) => [p.t, p.open]) },
        { name: "connects/s", color: COLORS[2] as string, points: tl.map((p) => [p.t, p.connects]) },
        { name: "connect errors/s", color: COLORS[1] as string, points: tl.map((p) => [p.t, p.connectErrors]) },
      ],
    }),
  ];
  const c = r.counts;
  const summary: [string, string][] = [
    ["scenario", r.scenario],
    ...(r.run && r.run.total > 1 ? [["run", `${r.run.id}, slices ${r.run.indexes.join(",")} of ${r.run.total}`] as [string, string]] : []),
    ["result", r.ok ? "ok" : `FAILED: ${r.failures.join("; ")}`],
    ["started", r.startedAt],
    ["duration", `${(r.durationMs / 1000).toFixed(1)} s`],
    ["worker processes", String(r.workers)],
    ["connects / errors", `${c.connects} / ${c.connectErrors} (${record(c.connectErrorReasons)})`],
    ["max open", String(c.maxOpen)],
    ["subscribed", String(c.subscribed)],
    ["closes by code", record(c.closes)],
    ["messages / bytes", `${c.messages} / ${c.bytes}`],
    ["requests ok / failed", `${c.requests} / ${record(c.requestErrors)}`],
    ["orders created", String(c.ordersCreated)],
    ["errors", record(c.errors)],
  ];
  summary.push(["client event-loop delay", `p99 ${r.client.loopLagP99Ms} ms, max ${r.client.loopLagMaxMs} ms`]);
  for (const t of r.thresholds ?? [])
    summary.push([`threshold ${t.ok ? "ok" : "BROKEN"}`, `${t.expr} (${t.value === undefined ? "not measured" : t.value})`]);
  for (const w of r.warnings) summary.push(["warning", w]);
  if (r.delivery) {
    const d = r.delivery;
    summary.push([
      "delivery",
      `${d.received}/${d.expected} received, ${d.missing} missing (${(d.lossRatio * 100).toFixed(3)}%), ${d.duplicates} duplicates`,
    ]);
  }
  const params = escapeXml(JSON.stringify(r.params, null, 2));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>orderstream-load: ${escapeXml(r.scenario)} ${escapeXml(r.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1600px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:13px}
th{background:#f6f6f6}.ok{color:#2a7}.bad{color:#c22}.charts{display:flex;flex-wrap:wrap;gap:16px}
.plot{border:1px solid #ddd}pre{background:#f6f6f6;padding:8px;font-size:12px}
</style></head><body>
<h1>orderstream-load: ${escapeXml(r.scenario)} <span class="${r.ok ? "ok" : "bad"}">${r.ok ? "ok" : "failed"}</span></h1>
${table(summary)}
<h2>Latency</h2>
${latencyTable(r)}
<h2>Plots</h2>
<div class="charts">
${charts.join("\n")}
</div>
<h2>Parameters</h2>
<pre>${params}</pre>
</body></html>
`;
}

/** Writes {@link renderHtmlReport} of `r` to `file`. */
export async function writeHtmlReport(file: string, r: ScenarioResult): Promise<void> {
  await writeFile(file, renderHtmlReport(r));
}
