import { round } from "./thresholds.js";
import type { ScenarioResult } from "./types.js";

/** A short plain-text summary of a result for the terminal. */
export function formatSummary(r: ScenarioResult): string {
  const c = r.counts;
  const secs = Math.max(0.001, r.durationMs / 1000);
  const lines = [
    `scenario ${r.scenario}: ${r.ok ? "OK" : "FAILED"} in ${secs.toFixed(1)} s (${r.workers} worker processes)`,
  ];
  if (r.run && r.run.total > 1) lines.push(`  run ${r.run.id}: slice${r.run.indexes.length > 1 ? "s" : ""} ${r.run.indexes.join(",")} of ${r.run.total}`);
  if (c.connects + c.connectErrors > 0)
    lines.push(`  connects ${c.connects}, connect errors ${c.connectErrors} ${JSON.stringify(c.connectErrorReasons)}, max open ${c.maxOpen}, subscribed ${c.subscribed}, closes ${JSON.stringify(c.closes)}`);
  lines.push(`  messages ${c.messages} (${Math.round(c.messages / secs)}/s), bytes ${c.bytes}`);
  if (c.requests > 0 || Object.keys(c.requestErrors).length > 0)
    lines.push(`  requests ${c.requests} (${Math.round(c.requests / secs)}/s), orders created ${c.ordersCreated}, failed ${JSON.stringify(c.requestErrors)}`);
  if (Object.keys(c.errors).length > 0) lines.push(`  errors ${JSON.stringify(c.errors)}`);
  for (const [kind, p] of Object.entries(r.latency)) {
    lines.push(`  latency ${kind.padEnd(8)} n=${p.count} p50 ${p.p50} ms  p90 ${p.p90} ms  p99 ${p.p99} ms  p99.9 ${p.p999} ms  max ${p.max} ms`);
  }
  if (r.delivery) {
    const d = r.delivery;
    lines.push(`  delivery ${d.received}/${d.expected} received, missing ${d.missing} (${(d.lossRatio * 100).toFixed(3)}%), duplicates ${d.duplicates}`);
  }
  lines.push(`  client event-loop delay (measured phase) p99 ${r.client.loopLagP99Ms} ms, max ${r.client.loopLagMaxMs} ms`);
  for (const t of r.thresholds ?? [])
    lines.push(`  threshold ${t.ok ? "ok    " : "BROKEN"} ${t.expr}  (${t.value === undefined ? "not measured" : round(t.value)})`);
  for (const w of r.warnings) lines.push(`  WARNING: ${w}`);
  for (const f of r.failures) lines.push(`  FAILED: ${f}`);
  return lines.join("\n");
}
