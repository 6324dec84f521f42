import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "./compose-project.js";

// The figures of one compose test run, one section per test file, gathered in one JSON file
// (ORDERSTREAM_COMPOSE_REPORT, else bench/results/compose-last.json) and printed as they come.

/** Where the figures go. */
export const REPORT_FILE = process.env.ORDERSTREAM_COMPOSE_REPORT || join(ROOT, "bench/results/compose-last.json");

/** Prints `figures` as one JSON line and merges them into the report file under `section`. */
export function recordFigures(section: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ test: section, ...figures }));
  let all: Record<string, unknown> = {};
  if (existsSync(REPORT_FILE)) {
    try {
      all = JSON.parse(readFileSync(REPORT_FILE, "utf8")) as Record<string, unknown>;
    } catch {
      all = {};
    }
  }
  all[section] = figures;
  mkdirSync(dirname(REPORT_FILE), { recursive: true });
  writeFileSync(REPORT_FILE, `${JSON.stringify(all, null, 2)}\n`);
}
