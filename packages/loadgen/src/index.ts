/** orderstream-load as a library: run scenarios programmatically and render their reports. */
export { runScenario, RemoteTargetError, type RunHooks } from "./run-scenario.js";
export { parseCliArgs, UsageError, USAGE, type CliArgs } from "./cli-args.js";
export { renderHtmlReport, writeHtmlReport } from "./html-report.js";
export { formatSummary } from "./summary.js";
export { mergeResults, MergeRefusedError, type NamedResult } from "./merge-results.js";
export { readResultFile } from "./result-file.js";
export { parseThresholds, evaluateThresholds, withThresholds, ThresholdsError, type Threshold } from "./thresholds.js";
export { THRESHOLD_METRICS, type ThresholdMetric } from "./threshold-metrics.js";
export { signJwt } from "./jwt.js";
export { isLoopbackHost } from "./target.js";
export { describePlan } from "./plan-description.js";
export * from "./types.js";
