#!/usr/bin/env node
import { parseCliArgs, USAGE, UsageError } from "./cli-args.js";
import { WORKER_FLAG } from "./fleet-protocol.js";
import { runMergeCli } from "./merge-cli.js";
import { ProgressDisplay } from "./progress.js";
import { emitResult } from "./result-file.js";
import { RemoteTargetError, runScenario } from "./run-scenario.js";
import { loadThresholds, type Threshold, ThresholdsError, withThresholds } from "./thresholds.js";
import { runWorkerProcess } from "./worker-process.js";

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`orderstream-load: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let thresholds: Threshold[] = [];
  try {
    if (args.thresholds !== undefined) thresholds = await loadThresholds(args.thresholds);
  } catch (err) {
    if (!(err instanceof ThresholdsError)) throw err;
    process.stderr.write(`orderstream-load: ${err.message}\n`);
    return 2;
  }
  const progress = args.quiet ? undefined : new ProgressDisplay(process.stderr);
  const abort = new AbortController();
  const onSignal = (): void => {
    process.stderr.write("\norderstream-load: stopping (signal)\n");
    abort.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let result;
  try {
    result = await runScenario(args.options, {
      signal: abort.signal,
      log: (line) => process.stderr.write(`${line}\n`),
      ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
    });
  } catch (err) {
    progress?.finish();
    if (err instanceof RemoteTargetError) {
      process.stderr.write(`orderstream-load: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`orderstream-load: run failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  progress?.finish();
  if (args.thresholds !== undefined) result = withThresholds(result, thresholds);
  await emitResult(result, {
    ...(args.json !== undefined ? { json: args.json } : {}),
    ...(args.html !== undefined ? { html: args.html } : {}),
  });
  return result.ok ? 0 : 1;
}

// A reader that went away (`| head`) must not kill a run whose result goes to --json/--html.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

if (process.argv[2] === WORKER_FLAG) {
  runWorkerProcess();
} else {
  (process.argv[2] === "merge" ? runMergeCli(process.argv.slice(3)) : main(process.argv.slice(2))).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`orderstream-load: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
