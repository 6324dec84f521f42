import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { Aggregator } from "./aggregator.js";
import { FleetGroup } from "./fleet-group.js";
import { authMetadata, makeOrderClient } from "./grpc-client.js";
import { type GrpcLoadContext, openSubscribeStreams, runBulkLoad, runCreateLoad } from "./grpc-load.js";
import { TokenSource } from "./jwt.js";
import { describePlan, scenarioUsesGrpc, scenarioUsesSockets } from "./plan-description.js";
import { orderNumbering, sliceOptions, sliceProblem, sliceShare } from "./slice.js";
import { StatsCollector, type StatsDelta } from "./stats.js";
import { remoteTargets } from "./target.js";
import type { DeliveryReport, ProgressUpdate, ScenarioOptions, ScenarioResult } from "./types.js";

/** Optional hooks of a programmatic run. */
export interface RunHooks {
  /** Aborting ends the run early (the result is still returned). */
  signal?: AbortSignal;
  /** Called once per second with live figures. */
  onProgress?: (p: ProgressUpdate) => void;
  /** Receives notices (the send plan for remote targets). */
  log?: (line: string) => void;
  /** The CLI file forked for workers (default: dist/cli.js of this package). */
  workerEntry?: string;
}

/** Thrown when a target is outside loopback and `allowRemote` is not set. */
export class RemoteTargetError extends Error {
  constructor(targets: string[]) {
    super(`refusing non-loopback target(s) ${targets.join(", ")}: pass --allow-remote (allowRemote: true) to load a remote host`);
    this.name = "RemoteTargetError";
  }
}

const TICK_MS = 1000;
const RAMP_EXTRA_S = 30;
/** Event-loop delay (ms) above which the result warns that the client, not the server, was slow. */
const SATURATED_LAG_MS = 100;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Waits `settleS` for late deliveries, then keeps waiting while events are still arriving (late
 * is not lost: a backlog drains after the last create), at most 4 × settleS or 10 s more.
 */
async function settle(settleS: number, messages: () => number, signal: AbortSignal): Promise<void> {
  await sleep(settleS * 1000, signal);
  const deadline = Date.now() + Math.max(10_000, settleS * 4000);
  let last = messages();
  while (!signal.aborted && Date.now() < deadline) {
    await sleep(TICK_MS + 100, signal);
    const now = messages();
    if (now === last) return;
    last = now;
  }
}

/** Redacted copy of the options for the result file (secrets never written). */
function paramsOf(opts: ScenarioOptions): Record<string, unknown> {
  const { token, jwtSecret, ...rest } = opts;
  return { ...rest, token: token === undefined ? undefined : "<redacted>", jwtSecret: jwtSecret === undefined ? undefined : "<redacted>" };
}

/**
 * Runs one load scenario to completion (bounded by duration and counts) and returns its result.
 * Usable from bench scripts against any server speaking the orderstream subscribe protocol.
 * With `given.slice`, runs that slice's share of the whole run (see slice.ts).
 */
export async function runScenario(given: ScenarioOptions, hooks: RunHooks = {}): Promise<ScenarioResult> {
  const problem = sliceProblem(given);
  if (problem) throw new Error(problem);
  const share = sliceShare(given);
  const opts = sliceOptions(given, share);
  const runId = given.runId ?? randomUUID();
  const remote = remoteTargets(scenarioUsesSockets(opts.scenario) ? opts.urls : [], scenarioUsesGrpc(opts) ? opts.grpc : undefined);
  if (remote.length > 0 && !opts.allowRemote) throw new RemoteTargetError(remote);
  if (remote.length > 0) hooks.log?.(describePlan(opts));

  const startMs = Date.now();
  const agg = new Aggregator(startMs);
  const local = new StatsCollector();
  const sink = (id: string, d: StatsDelta): void => agg.add(id, d);
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort();
  hooks.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (hooks.signal?.aborted) stop.abort();

  const tokens = new TokenSource(opts.token, opts.jwtSecret);
  const needsGrpc = scenarioUsesGrpc(opts);
  const client = needsGrpc ? makeOrderClient(opts.grpc) : undefined;
  const ctx: GrpcLoadContext | undefined = client
    ? {
        address: opts.grpc,
        client,
        md: authMetadata(tokens.admin()),
        stats: local,
        users: opts.users,
        ...(given.slice ? { numbering: orderNumbering(given) } : {}),
      }
    : undefined;
  const group = scenarioUsesSockets(opts.scenario) ? new FleetGroup(opts, opts.scenario === "e2e", sink, hooks.workerEntry, share.socketStart) : undefined;

  let phase = "ramp";
  const warnings: string[] = [];
  let held = false;
  agg.measuring = !group; // socket scenarios measure client lag once every socket has settled
  let lastMessages = 0;
  let lastRequests = 0;
  const ticker = setInterval(() => {
    sink("main", local.takeDelta());
    group?.poll();
    group?.flush();
    if (group && !held && opts.minAvailableMiB > 0) {
      const avail = memAvailableMiB();
      if (avail !== undefined && avail < opts.minAvailableMiB) {
        // The machine's ceiling: hold the sockets there are and say what ran out.
        held = true;
        group.hold();
        warnings.push(`stopped adding sockets at ${agg.open} open: MemAvailable ${avail} MiB fell under --min-available-mib ${opts.minAvailableMiB}`);
      }
    }
    if (phase === "ramp" && opts.scenario === "ws-subscribe" && group?.settled) {
      phase = "run";
      agg.measuring = true;
    }
    const c = agg.counts;
    const listenOnly = opts.scenario === "ws-subscribe" || opts.scenario === "grpc-subscribe";
    if (listenOnly && opts.count > 0 && c.messages >= opts.count) stop.abort();
    const errors =
      c.connectErrors + Object.values(c.errors).reduce((a, b) => a + b, 0) + Object.values(c.requestErrors).reduce((a, b) => a + b, 0);
    hooks.onProgress?.({
      elapsedS: (Date.now() - startMs) / 1000,
      phase,
      open: agg.open,
      targetSockets: opts.scenario === "grpc-subscribe" ? opts.streams : group ? opts.sockets : 0,
      msgsPerS: c.messages - lastMessages,
      requestsPerS: c.requests - lastRequests,
      p99Ms: agg.lastSecond()?.p99 ?? agg.deliveryP99(),
      errors,
      clientLagMs: agg.takeRecentLag(),
    });
    lastMessages = c.messages;
    lastRequests = c.requests;
  }, TICK_MS);

  let delivery: DeliveryReport | undefined;
  const failures: string[] = [];
  try {
    if (group) group.start();
    if (opts.scenario === "e2e" && group && ctx) {
      const rampBoundMs = (opts.sockets / Math.max(1, opts.rampPerS) + RAMP_EXTRA_S) * 1000;
      const rampDeadline = Date.now() + rampBoundMs;
      while (!group.settled && !stop.signal.aborted && Date.now() < rampDeadline) await sleep(100, stop.signal);
      if (!group.settled) failures.push(`sockets did not all subscribe within ${Math.round(rampBoundMs / 1000)} s`);
      phase = "create";
      agg.measuring = true;
      const durationTimer = setTimeout(() => stop.abort(), opts.durationS * 1000);
      await runCreateLoad(ctx, opts.rate, opts.concurrency, { signal: stop.signal, maxCount: opts.count }, (order, sentAt) =>
        group.announce({ id: order.id, userId: order.userId, sentAt }),
      );
      clearTimeout(durationTimer);
      phase = "settle";
      group.flush();
      await settle(opts.settleS, () => agg.counts.messages, hooks.signal ?? new AbortController().signal);
    } else {
      if (!group) phase = "run";
      const durationTimer = setTimeout(() => stop.abort(), opts.durationS * 1000);
      const bounds = { signal: stop.signal, maxCount: opts.count };
      if (opts.scenario === "grpc-create" && ctx) await runCreateLoad(ctx, opts.rate, opts.concurrency, bounds);
      else if (opts.scenario === "grpc-bulk" && ctx) await runBulkLoad(ctx, opts.batch, Math.max(1, opts.concurrency), bounds);
      else {
        const streams = opts.scenario === "grpc-subscribe" && ctx ? openSubscribeStreams(ctx, opts.streams, opts.userRatio, share.streamStart) : undefined;
        const background = ctx && opts.rate > 0 ? runCreateLoad(ctx, opts.rate, 0, { signal: stop.signal, maxCount: 0 }) : undefined;
        await sleep(opts.durationS * 1000, stop.signal);
        await background;
        streams?.stop();
      }
      clearTimeout(durationTimer);
    }
    phase = "stop";
    sink("main", local.takeDelta());
    group?.poll();
    agg.measuring = false;
    if (group) delivery = await group.stop(2000);
  } finally {
    clearInterval(ticker);
    hooks.signal?.removeEventListener("abort", onOuterAbort);
    sink("main", local.takeDelta());
    local.dispose();
    client?.close();
  }

  const counts = agg.counts;
  if (agg.clientLag.p99Ms > SATURATED_LAG_MS)
    warnings.push(
      `the load generator's event loop was delayed (p99 up to ${agg.clientLag.p99Ms} ms: client CPU saturated or machine busy); ` +
        "latencies include client-side delay: add --workers, lower the load or run on a quieter machine",
    );
  const forbidden = counts.errors["forbidden"] ?? 0;
  if (forbidden > 0)
    warnings.push(
      `${forbidden} subscriptions were refused (forbidden): per-user channels need --jwt-secret or a token with sub=<user>, ` +
        "all-orders channels an admin token unless the server allows anonymous access",
    );
  if ((counts.errors["worker_failed"] ?? 0) > 0) failures.push("a worker process failed");
  if (opts.scenario === "e2e") {
    if (counts.ordersCreated === 0) failures.push("no order was created");
    if (!delivery || delivery.expected === 0) failures.push("no delivery was expected (no socket subscribed?)");
    else if (delivery.lossRatio > opts.maxLoss)
      failures.push(`loss ${delivery.missing}/${delivery.expected} (${(delivery.lossRatio * 100).toFixed(3)}%) exceeds --max-loss ${opts.maxLoss}`);
  }
  const result: ScenarioResult = {
    scenario: opts.scenario,
    params: paramsOf(given),
    startedAt: new Date(startMs).toISOString(),
    durationMs: Date.now() - startMs,
    workers: group?.workerCount ?? 0,
    ok: failures.length === 0,
    failures,
    counts,
    latency: agg.latency(),
    latencyCurve: agg.latencyCurve(),
    throughput: agg.timeline(),
    ...(delivery ? { delivery } : {}),
    client: { loopLagP99Ms: agg.clientLag.p99Ms, loopLagMaxMs: agg.clientLag.maxMs },
    warnings,
    run: { id: runId, total: given.slice?.total ?? 1, indexes: [given.slice?.index ?? 0], ...(given.slice ? { share } : {}) },
    raw: agg.raw(),
  };
  return result;
}

/** The machine's MemAvailable in MiB (undefined where /proc/meminfo cannot tell). */
function memAvailableMiB(): number | undefined {
  try {
    const kb = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
    return kb === undefined ? undefined : Math.floor(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}
