import { readFile } from "node:fs/promises";
import { metricNamesHint, thresholdMetric } from "./threshold-metrics.js";
import type { ScenarioResult, ThresholdOutcome } from "./types.js";

/** Comparison operators of a threshold. */
export const THRESHOLD_OPERATORS = ["<", "<=", ">", ">=", "=="] as const;
type Operator = (typeof THRESHOLD_OPERATORS)[number];

/** One parsed line of a thresholds file: `<metric> <operator> <number>`. */
export interface Threshold {
  metric: string;
  op: Operator;
  limit: number;
  /** Where it was written (`thresholds.txt:3`) and how. */
  where: string;
  expr: string;
}

/** A thresholds file that does not parse; the message starts with `file:line:`. The CLI exits 2. */
export class ThresholdsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ThresholdsError";
  }
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Parses a thresholds file: one `<metric> <operator> <number>` per line (`delivery.p99 < 500`),
 * `#` starts a comment, blank lines are skipped. Throws {@link ThresholdsError} naming the line
 * of the first unknown metric, bad operator or bad number.
 */
export function parseThresholds(text: string, file = "thresholds"): Threshold[] {
  const out: Threshold[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const m = /^([^\s<>=!]+)\s*([<>=!]+)\s*(.*)$/.exec(line);
    if (!m) {
      const words = line.split(/\s+/);
      if (words.length === 3 && thresholdMetric(words[0] as string))
        throw new ThresholdsError(`${where}: bad operator "${words[1]}" (one of ${THRESHOLD_OPERATORS.join(" ")})`);
      throw new ThresholdsError(`${where}: expected "<metric> <operator> <number>", got "${line}"`);
    }
    const [, metric, op, num] = m as unknown as [string, string, string, string];
    if (!thresholdMetric(metric)) throw new ThresholdsError(`${where}: unknown metric "${metric}" (known: ${metricNamesHint()})`);
    if (!(THRESHOLD_OPERATORS as readonly string[]).includes(op))
      throw new ThresholdsError(`${where}: bad operator "${op}" (one of ${THRESHOLD_OPERATORS.join(" ")})`);
    if (!NUMBER.test(num))
      throw new ThresholdsError(`${where}: bad number "${num}" (a plain number: ms for latencies, 0..1 for loss and rates)`);
    out.push({ metric, op: op as Operator, limit: Number(num), where, expr: `${metric} ${op} ${num}` });
  });
  return out;
}

/** Reads and parses a thresholds file (messages name it as given). */
export async function loadThresholds(file: string): Promise<Threshold[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ThresholdsError(`${file}: cannot read the thresholds file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseThresholds(text, file);
}

function holds(value: number, op: Operator, limit: number): boolean {
  switch (op) {
    case "<":
      return value < limit;
    case "<=":
      return value <= limit;
    case ">":
      return value > limit;
    case ">=":
      return value >= limit;
    case "==":
      return value === limit;
  }
}

/** Checks every threshold against `r`; one the run did not measure (no samples, no e2e) fails. */
export function evaluateThresholds(thresholds: Threshold[], r: ScenarioResult): ThresholdOutcome[] {
  return thresholds.map((t) => {
    const value = thresholdMetric(t.metric)?.value(r);
    if (value === undefined) return { expr: t.expr, metric: t.metric, ok: false };
    return { expr: t.expr, metric: t.metric, value, ok: holds(value, t.op, t.limit) };
  });
}

/** The result with its threshold outcomes recorded; a broken threshold becomes a failure (exit 1). */
export function withThresholds(r: ScenarioResult, thresholds: Threshold[]): ScenarioResult {
  const outcomes = evaluateThresholds(thresholds, r);
  const broken = outcomes
    .filter((o) => !o.ok)
    .map((o) => `threshold ${o.expr} broken: ${o.value === undefined ? "not measured in this run" : `${o.metric} = ${round(o.value)}`}`);
  const failures = [...r.failures, ...broken];
  return { ...r, thresholds: outcomes, failures, ok: failures.length === 0 };
}

/** A figure for messages: at most 6 significant digits. */
export function round(v: number): number {
  return Number(v.toPrecision(6));
}
