import { type Job, DelayedError, Worker } from "bullmq";
import { ORDERS_QUEUE, type OrderJobData, type OrderStore, type RedisConnection, bullmqPrefix } from "@orderstream/bus";
import { type OrderActionName, TRANSITIONS, statusName } from "@orderstream/domain";
import type { Logger } from "pino";
import type { ProcessorConfig } from "./config.js";
import type { ProcessorMetrics } from "./metrics.js";
import { type StepDelays, dueAfter, nextStep } from "./order-steps.js";

/** Most rounds one job run takes (PENDING to DELIVERED is four per order); bounds the loop. */
const MAX_ROUNDS_PER_RUN = 8;

/** A job stalled (its worker died) this many times is still safe to rerun: every step is a CAS. */
const MAX_STALLED_COUNT = 20;

/** Dependencies of {@link processOrderJob}. */
export interface OrderJobContext {
  store: OrderStore;
  delays: StepDelays;
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
 * Runs one order job: the batch of orders created together. Each round reads where every order
 * is, applies the next step of all that have one as one compare-and-set script (per order, never
 * repeated: a retried, stalled or duplicated job resumes where the orders actually are), and
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
  const status = new Map<string, string>();
  const owner = new Map<string, string>();
  // Orders of a job the due sweep queued: their current step is overdue, whatever its delay.
  const overdue = new Set(job.data.overdueSince === undefined ? [] : ids);
  const ended = new Map<string, string>(); // why each order left the job
  const end = (orderId: string, reason: string): void => {
    status.delete(orderId);
    ended.set(orderId, reason);
  };
  const orders = await Promise.all(ids.map((id) => ctx.store.get(id)));
  orders.forEach((o, i) => {
    if (o) {
      status.set(ids[i] as string, statusName(o.status));
      owner.set(ids[i] as string, o.userId);
    } else {
      log.warn({ orderId: ids[i] }, "order not found; left out of the job");
      end(ids[i] as string, "not_found");
    }
  });
  for (let round = 0; round < MAX_ROUNDS_PER_RUN; round++) {
    const now = Date.now();
    const moves: { orderId: string; action: OrderActionName }[] = [];
    let due: { action: OrderActionName; at: number } | undefined;
    for (const [orderId, s] of status) {
      const step = nextStep(s, { due: job.data.due, overdue: overdue.has(orderId) }, now, ctx.delays);
      if (step.kind === "done") end(orderId, step.reason);
      else if (step.kind === "transition") moves.push({ orderId, action: step.action });
      else if (!due || step.at < due.at) due = { action: step.action, at: step.at };
    }
    if (moves.length > 0) {
      const results = await ctx.store.transitionMany(
        moves.map((m) => ({ ...m, userId: owner.get(m.orderId), dueInMs: dueAfter(statusName(TRANSITIONS[m.action].to), ctx.delays) })),
      );
      results.forEach((r, i) => {
        const { orderId, action } = moves[i] as { orderId: string; action: OrderActionName };
        overdue.delete(orderId);
        if (r.ok) {
          const to = statusName(r.order.status);
          status.set(orderId, to);
          ctx.metrics.transitions.inc({ to });
        } else if (r.code === "not_found") {
          log.warn({ orderId, action }, "order vanished; left out of the job");
          end(orderId, "not_found");
        } else {
          // Someone else (an earlier attempt of this job, a client action) already moved it on.
          status.set(orderId, statusName(r.order.status));
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
    log.debug({ action: due.action, at: due.at, orders: status.size }, "order job delayed");
    throw new DelayedError();
  }
  throw new Error(`order job ${job.id} did not settle within ${MAX_ROUNDS_PER_RUN} rounds`);
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
