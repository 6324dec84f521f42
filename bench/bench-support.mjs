// Shared plumbing of the benchmark scripts: latency histograms, result files, table printing.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import hdr from "hdr-histogram-js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A latency histogram in microseconds, read back in milliseconds. */
export function latencyHistogram() {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  return {
    recordMs(ms) {
      h.recordValue(Math.max(1, Math.round(ms * 1000)));
    },
    count: () => h.totalCount,
    pMs: (p) => h.getValueAtPercentile(p) / 1000,
    summary() {
      return { count: h.totalCount, p50Ms: this.pMs(50), p90Ms: this.pMs(90), p99Ms: this.pMs(99), maxMs: h.maxValue / 1000 };
    },
  };
}

/** The machine a figure was measured on. */
export function machine() {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "", memGiB: Math.round(totalmem() / 2 ** 30) };
}

/** Writes `bench/results/<name>-<timestamp>.json` and returns its path. */
export function writeResult(name, result) {
  const dir = join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ name, at: new Date().toISOString(), machine: machine(), ...result }, null, 2));
  return file;
}

/** Prints rows of {metric, value, goal, ok} as an aligned table. */
export function printTable(title, rows) {
  console.log(`\n${title}`);
  const w = Math.max(...rows.map((r) => r.metric.length));
  for (const r of rows) {
    const mark = r.ok === undefined ? "" : r.ok ? "  ok" : "  BELOW GOAL";
    console.log(`  ${r.metric.padEnd(w)}  ${String(r.value).padStart(12)}  ${r.goal ? `(goal ${r.goal})` : ""}${mark}`);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Prints rows of {metric, cells: [...], goal, ok} as an aligned table under `header` (one name per cell). */
export function printColumns(title, header, rows) {
  console.log(`\n${title}`);
  const w = Math.max(...rows.map((r) => r.metric.length));
  const cw = Math.max(12, ...header.map((h) => h.length), ...rows.flatMap((r) => r.cells.map((c) => String(c ?? "").length)));
  const line = (metric, cells, tail) => console.log(`  ${metric.padEnd(w)}  ${cells.map((c) => String(c ?? "").padStart(cw)).join("  ")}  ${tail}`);
  line("", header, "");
  for (const r of rows) line(r.metric, r.cells, `${r.goal ? `(goal ${r.goal})` : ""}${r.ok === undefined ? "" : r.ok ? "  ok" : "  BELOW GOAL"}`);
}
