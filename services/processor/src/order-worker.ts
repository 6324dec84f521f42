import { type Job, DelayedError, Worker } from "bullmq";
import { BULLMQ_PREFIX, ORDERS_QUEUE, type OrderStore, type RedisConnection } from "@orderstream/bus";
import { statusName } from "@orderstream/domain";
import type { Logger } from "pino";
import type { ProcessorConfig } from "./config.js";
import type { ProcessorMetrics } from "./metrics.js";
import { type OrderJobData, type StepDelays, nextStep } from "./order-steps.js";

/** Most steps one job run can take (PENDING to DELIVERED is four); bounds the loop. */
const MAX_STEPS_PER_RUN = 8;

/** A job stalled (its worker died) this many times is still safe to rerun: every step is a CAS. */
const MAX_STALLED_COUNT = 20;

/** Dependencies of {@link processOrderJob}. */
export interface OrderJobContext {
  store: OrderStore;
  delays: StepDelays;
  metrics: ProcessorMetrics;
  logger: Logger;
}

/**
 * Runs one order job: reads the order's status, applies the next step as one CAS transition,
 * and repeats until the order is finished, a delay is due (step-job pattern: the job moves to
 * delayed, same job id) or auto-advancing stops. Redis errors propagate so BullMQ retries.
 * Returns why the job ended.
 */
export async function processOrderJob(ctx: OrderJobContext, job: Job<OrderJobData>, token?: string): Promise<string> {
  const { orderId } = job.data;
  if (typeof orderId !== "string" || orderId.length === 0) {
    ctx.logger.error({ jobId: job.id, data: job.data }, "order job without an orderId; dropped");
    return "invalid_job";
  }
  const log = ctx.logger.child({ orderId, jobId: job.id });
  const order = await ctx.store.get(orderId);
  if (!order) {
    log.warn("order not found; job ends");
    return "not_found";
  }
  let status = statusName(order.status);
  for (let i = 0; i < MAX_STEPS_PER_RUN; i++) {
    const step = nextStep(status, job.data, Date.now(), ctx.delays);
    if (step.kind === "done") {
      log.debug({ status, reason: step.reason }, "order job done");
      return step.reason;
    }
    if (step.kind === "delay") {
      const due = job.data.due;
      if (!due || due.action !== step.action || due.at !== step.at) {
        await job.updateData({ orderId, due: { action: step.action, at: step.at } });
      }
      await job.moveToDelayed(step.at, token);
      log.debug({ status, action: step.action, at: step.at }, "order job delayed");
      throw new DelayedError();
    }
    const result = await ctx.store.transition(orderId, step.action);
    if (result.ok) {
      status = statusName(result.order.status);
      ctx.metrics.transitions.inc({ to: status });
      log.debug({ action: step.action, to: status }, "order transitioned");
    } else if (result.code === "not_found") {
      log.warn({ action: step.action }, "order vanished; job ends");
      return "not_found";
    } else {
      // Someone else (an earlier attempt of this job, a client action) already moved it on.
      const current = statusName(result.order.status);
      log.debug({ action: step.action, from: status, current }, "order already moved; continuing from its status");
      status = current;
    }
  }
  throw new Error(`order ${orderId} did not settle within ${MAX_STEPS_PER_RUN} steps (status ${status})`);
}

/** Creates the BullMQ worker on the `orders` queue (started at once). */
export function createOrderWorker(
  connection: RedisConnection,
  config: ProcessorConfig,
  ctx: OrderJobContext,
): Worker<OrderJobData, string> {
  const worker = new Worker<OrderJobData, string>(
    ORDERS_QUEUE,
    (job, token) => processOrderJob(ctx, job, token),
    {
      connection: connection as never,
      prefix: BULLMQ_PREFIX,
      concurrency: config.concurrency,
      lockDuration: config.jobLockMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: MAX_STALLED_COUNT,
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  );
  worker.on("failed", (job, err) => {
    const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1);
    ctx.metrics.jobsFailed.inc({ final: String(final) });
    ctx.logger.error(
      { err, jobId: job?.id, orderId: job?.data.orderId, attemptsMade: job?.attemptsMade, final },
      "order job failed",
    );
  });
  worker.on("error", (err) => ctx.logger.error({ err }, "worker error"));
  return worker;
}
