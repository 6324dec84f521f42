import { type Job, DelayedError, Worker } from "bullmq";
import { ORDERS_QUEUE, type OrderJobData, type OrderStore, type RedisConnection, type TransitionRequest, bullmqPrefix } from "@orderstream/bus";
import { type OrderActionName, TRANSITIONS, orderToJson, statusName } from "@orderstream/domain";
import type { Order } from "@orderstream/proto";
import type { Workflow } from "@orderstream/workflow";
import type { Logger } from "pino";
import type { ProcessorConfig } from "./config.js";
import type { ProcessorMetrics } from "./metrics.js";
import { type NextStep, dueAfter, nextStep } from "./order-steps.js";
import { runStep } from "./step-runner.js";

/** Most rounds one job run takes (PENDING to DELIVERED is four per order); bounds the loop. */
const MAX_ROUNDS_PER_RUN = 8;

/** A job stalled (its worker died) this many times is still safe to rerun: every step is a CAS. */
const MAX_STALLED_COUNT = 20;

/** Dependencies of {@link processOrderJob}. */
export interface OrderJobContext {
  store: OrderStore;
  workflow: Workflow;
  metrics: ProcessorMetrics;
  logger: Logger;
}

/** The order ids of a job (also reads the one-order jobs of earlier versions, `{orderId}`). */
export function jobOrderIds(data: unknown): string[] {
  const d = data as { orderIds?: unknown; orderId?: unknown } | null;
  if (d && Array.isArray(d.orderIds)) return d.orderIds.filter((id): id is string => typeof id === "string" && id.length > 0);
  if (d && typeof d.orderId === "string" && d.orderId.length > 0) return [d.orderId];
  return [];
}

/**
 * Runs one order job: the batch of orders created together. Each round runs the workflow's step
 * of every order that has one due, and applies each outcome as one compare-and-set transition
 * (never repeated: a retried, stalled or duplicated job resumes where the orders actually are), and
 * repeats; when only delayed steps are left the job moves to delayed until the earliest is due
 * (step-job pattern, same job id). Redis errors propagate so BullMQ retries. Returns why its
 * orders left it (`DELIVERED`, `stopped at PROCESSING`, `not_found`…; several comma-separated).
 */
export async function processOrderJob(ctx: OrderJobContext, job: Job<OrderJobData>, token?: string): Promise<string> {
  const ids = jobOrderIds(job.data);
  if (ids.length === 0) {
    ctx.logger.error({ jobId: job.id, data: job.data }, "order job without order ids; dropped");
    return "invalid_job";
  }
  const log = ctx.logger.child({ jobId: job.id, orders: ids.length });
  // Where each order is: read once, then followed through the job's own transitions.
  const state = new Map<string, { order: Order; version: number }>();
  // Orders of a job the due sweep queued: their current step is overdue, whatever its delay.
  const overdue = new Set(job.data.overdueSince === undefined ? [] : ids);
  const ended = new Map<string, string>(); // why each order left the job
  const end = (orderId: string, reason: string): void => {
    state.delete(orderId);
    ended.set(orderId, reason);
  };
  const read = await Promise.all(ids.map((id) => ctx.store.read(id)));
  read.forEach((r, i) => {
    if (r) state.set(ids[i] as string, r);
    else {
      log.warn({ orderId: ids[i] }, "order not found; left out of the job");
      end(ids[i] as string, "not_found");
    }
  });
  for (let round = 0; round < MAX_ROUNDS_PER_RUN; round++) {
    const now = Date.now();
    const runs: { orderId: string; next: Extract<NextStep, { kind: "run" }> }[] = [];
    let due: { action: OrderActionName; at: number } | undefined;
    for (const [orderId, { order }] of state) {
      const step = nextStep(statusName(order.status), { due: job.data.due, overdue: overdue.has(orderId) }, now, ctx.workflow);
      if (step.kind === "done") end(orderId, step.reason);
      else if (step.kind === "run") runs.push({ orderId, next: step });
      else if (!due || step.at < due.at) due = { action: step.action, at: step.at };
    }
    if (runs.length > 0) {
      // Every order's step runs at once; each outcome is one compare-and-set transition.
      const moves = await Promise.all(runs.map((r) => stepMove(ctx, r.orderId, r.next, state.get(r.orderId) as { order: Order; version: number })));
      const results = await ctx.store.transitionMany(moves);
      // A refused move: someone else moved the order on, by how many versions is unknown, and
      // the next step's idempotency key names the version: read it again.
      const reread = new Map(
        await Promise.all(
          results.flatMap((r, i) => (!r.ok && r.code === "invalid_transition" ? [(moves[i] as TransitionRequest).orderId] : [])).map(
            async (id) => [id, await ctx.store.read(id)] as const,
          ),
        ),
      );
      results.forEach((r, i) => {
        const { orderId, action } = moves[i] as TransitionRequest;
        overdue.delete(orderId);
        const cur = state.get(orderId) as { order: Order; version: number };
        if (r.ok) {
          state.set(orderId, { order: r.order, version: cur.version + 1 });
          ctx.metrics.transitions.inc({ to: statusName(r.order.status) });
        } else if (r.code === "not_found") {
          log.warn({ orderId, action }, "order vanished; left out of the job");
          end(orderId, "not_found");
        } else {
          // Someone else (an earlier attempt of this job, a client action) already moved it on.
          const now = reread.get(orderId);
          if (now) state.set(orderId, now);
          else end(orderId, "not_found");
        }
      });
      continue;
    }
    if (!due) {
      const reasons = [...new Set(ended.values())].sort().join(",");
      log.debug({ reasons }, "order job done");
      return reasons;
    }
    const cur = job.data.due;
    if (!cur || cur.action !== due.action || cur.at !== due.at) {
      await job.updateData({ orderIds: ids, due });
    }
    await job.moveToDelayed(due.at, token);
    log.debug({ action: due.action, at: due.at, orders: state.size }, "order job delayed");
    throw new DelayedError();
  }
  throw new Error(`order job ${job.id} did not settle within ${MAX_ROUNDS_PER_RUN} rounds`);
}

/** Runs an order's workflow step (if it has work) and says which transition its outcome applies. */
async function stepMove(
  ctx: OrderJobContext,
  orderId: string,
  next: Extract<NextStep, { kind: "run" }>,
  { order, version }: { order: Order; version: number },
): Promise<TransitionRequest> {
  const success = { orderId, userId: order.userId, action: next.action, dueInMs: dueAfter(statusName(TRANSITIONS[next.action].to), ctx.workflow) };
  if (!next.step.run) return success;
  const json = orderToJson(order);
  const outcome = await runStep(next.status, next.step, json, version, ctx.logger, () => ctx.metrics.stepAttemptsFailed.inc({ step: next.status }));
  if (outcome.ok) return { ...success, note: outcome.note };
  ctx.metrics.ordersFailed.inc({ step: next.status, reason: outcome.kind });
  ctx.logger.error({ orderId, step: next.status, reason: outcome.reason, attempts: outcome.attempts }, "workflow step failed for good; order FAILED");
  return { orderId, userId: order.userId, action: "fail", reason: outcome.reason };
}

/** Runs a job through {@link processOrderJob}, observing its run time and (first run only) its queue wait. */
async function timedRun(ctx: OrderJobContext, job: Job<OrderJobData>, token?: string): Promise<string> {
  const t0 = performance.now();
  if (job.attemptsMade === 0 && !job.data.due) ctx.metrics.jobWait.observe(Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000);
  let outcome = "failed";
  try {
    const result = await processOrderJob(ctx, job, token);
    outcome = "completed";
    return result;
  } catch (err) {
    if (err instanceof DelayedError) outcome = "delayed";
    throw err;
  } finally {
    ctx.metrics.jobDuration.observe({ outcome }, (performance.now() - t0) / 1000);
  }
}

/**
 * Creates the BullMQ worker of one partition's `orders` queue (started at once), running at most
 * `concurrency` of its jobs at a time.
 */
export function createOrderWorker(
  connection: RedisConnection,
  partitionTag: string,
  concurrency: number,
  config: ProcessorConfig,
  ctx: OrderJobContext,
): Worker<OrderJobData, string> {
  const worker = new Worker<OrderJobData, string>(ORDERS_QUEUE, (job, token) => timedRun(ctx, job, token), {
    connection: connection as never,
    prefix: bullmqPrefix(partitionTag),
    concurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: MAX_STALLED_COUNT,
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  worker.on("failed", (job, err) => {
    const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1);
    ctx.metrics.jobsFailed.inc({ final: String(final) });
    ctx.logger.error({ err, jobId: job?.id, partition: partitionTag, attemptsMade: job?.attemptsMade, final }, "order job failed");
  });
  worker.on("error", (err) => ctx.logger.error({ err, partition: partitionTag }, "worker error"));
  return worker;
}
