import { readFile, writeFile } from "node:fs/promises";
import { writeHtmlReport } from "./html-report.js";
import { MergeRefusedError } from "./merge-results.js";
import { formatSummary } from "./summary.js";
import type { ScenarioResult } from "./types.js";

/** `--json -`: the result goes to stdout as one line, the text summary to stderr. */
export const STDOUT = "-";

function looksLikeResult(x: unknown): x is ScenarioResult {
  const r = x as Partial<ScenarioResult> | null;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.scenario === "string" &&
    typeof r.startedAt === "string" &&
    typeof r.durationMs === "number" &&
    typeof r.counts === "object" &&
    Array.isArray(r.throughput) &&
    Array.isArray(r.failures) &&
    Array.isArray(r.warnings) &&
    typeof r.latency === "object" &&
    typeof r.client === "object"
  );
}

function parseLine(line: string): ScenarioResult | undefined {
  try {
    const x: unknown = JSON.parse(line);
    return looksLikeResult(x) ? x : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a result from a `--json` file, or from a pod's log (`kubectl logs` of a run with
 * `--json -`: the last line that is a result). Refuses anything else with a message naming `file`.
 */
export async function readResultFile(file: string): Promise<ScenarioResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new MergeRefusedError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const whole = parseLine(text);
  if (whole) return whole;
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] as string).trim();
    if (!line.startsWith("{")) continue;
    const r = parseLine(line);
    if (r) return r;
  }
  throw new MergeRefusedError(`${file} holds no orderstream-load result (a --json file, or the log of a run with --json -)`);
}

/** Where a result goes besides the summary: `json` (a file or {@link STDOUT}) and `html`. */
export interface ResultTargets {
  json?: string;
  html?: string;
}

/** Prints the summary and writes the result where asked (the CLI's output of a run and of a merge). */
export async function emitResult(r: ScenarioResult, targets: ResultTargets): Promise<void> {
  const toStdout = targets.json === STDOUT;
  const text = toStdout ? process.stderr : process.stdout;
  text.write(`${formatSummary(r)}\n`);
  if (targets.json === STDOUT) process.stdout.write(`${JSON.stringify(r)}\n`);
  else if (targets.json !== undefined) {
    await writeFile(targets.json, `${JSON.stringify(r, null, 2)}\n`);
    text.write(`  wrote ${targets.json}\n`);
  }
  if (targets.html !== undefined) {
    await writeHtmlReport(targets.html, r);
    text.write(`  wrote ${targets.html}\n`);
  }
}
