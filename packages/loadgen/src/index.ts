/** orderstream-load as a library: run scenarios programmatically and render their reports. */
export { runScenario, RemoteTargetError, type RunHooks } from "./run-scenario.js";
export { parseCliArgs, UsageError, USAGE, type CliArgs } from "./cli-args.js";
export { renderHtmlReport, writeHtmlReport } from "./html-report.js";
export { formatSummary } from "./summary.js";
export { signJwt } from "./jwt.js";
export { isLoopbackHost } from "./target.js";
export { describePlan } from "./plan-description.js";
export * from "./types.js";
