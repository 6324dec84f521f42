import { parseArgs } from "node:util";
import { MergeRefusedError, mergeResults, type NamedResult } from "./merge-results.js";
import { emitResult, readResultFile } from "./result-file.js";
import { loadThresholds, type Threshold, ThresholdsError, withThresholds } from "./thresholds.js";

/** Help text of `orderstream-load merge`. */
export const MERGE_USAGE = `usage: orderstream-load merge <result> [<result> ...] [options]

Combines the results of a run's slices (--index/--total, e.g. the pods of an indexed Job) into one
report: counters added, HDR histograms merged exactly, percentiles recomputed. A <result> is a
--json file or a pod's log of a run with --json - (kubectl logs). Results of different runs
(--run-id) or scenarios, a slice given twice, or results without histograms are refused (exit 2).

options:
  --json <file|->            write the merged result as JSON (- = stdout, summary to stderr)
  --html <file>              write the HTML report
  --thresholds <file>        check thresholds against the merged result (exit 1 when one breaks)
  --help                     this text

exit codes: 0 ok, 1 a slice failed its checks or a threshold broke, 2 bad arguments, a bad
thresholds file or results that cannot be merged`;

function fail(message: string, usage = false): number {
  process.stderr.write(`orderstream-load merge: ${message}\n${usage ? `\n${MERGE_USAGE}\n` : ""}`);
  return 2;
}

/** `orderstream-load merge …` (argv after "merge"); resolves to the exit code. */
export async function runMergeCli(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        json: { type: "string" },
        html: { type: "string" },
        thresholds: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return fail((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""), true);
  }
  const v = parsed.values;
  if (v.help === true) {
    process.stdout.write(`${MERGE_USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length === 0) return fail("give one or more result files", true);
  let thresholds: Threshold[] = [];
  try {
    if (v.thresholds !== undefined) thresholds = await loadThresholds(v.thresholds);
    const inputs: NamedResult[] = [];
    for (const name of parsed.positionals) inputs.push({ name, result: await readResultFile(name) });
    let merged = mergeResults(inputs);
    if (v.thresholds !== undefined) merged = withThresholds(merged, thresholds);
    await emitResult(merged, { ...(v.json !== undefined ? { json: v.json } : {}), ...(v.html !== undefined ? { html: v.html } : {}) });
    return merged.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof ThresholdsError || err instanceof MergeRefusedError) return fail(err.message);
    throw err;
  }
}
