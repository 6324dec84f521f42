import type { JobsOptions } from "bullmq";
import type { OrderActionName } from "@orderstream/domain";

/** Name of order jobs on the `orders` queues (the worker ignores names). */
export const ORDER_JOB_NAME = "orders";

/**
 * Data of an order job: the orders created together in one partition (one job drives them all,
 * each step still one compare-and-set per order), plus the step the job waits for while delayed.
 */
export interface OrderJobData {
  orderIds: string[];
  /** Set while the job sits delayed: which action is due, and when (epoch ms). */
  due?: { action: OrderActionName; at: number };
  /** Set on a job the due sweep queued: the order's step has been due since then (epoch ms). */
  overdueSince?: number;
}

/** Retries an order job gets unless configured otherwise (the processor's JOB_ATTEMPTS default). */
export const DEFAULT_JOB_ATTEMPTS = 5;

/** Base delay of the exponential retry backoff of an order job. */
export const JOB_BACKOFF_MS = 500;

/**
 * Options every order job is added with, by order-api and by the due sweep alike: the given job
 * id (adding it twice is a no-op), retries backing off exponentially, and finished jobs trimmed
 * instead of kept forever.
 */
export function orderJobOptions(jobId: string, attempts: number = DEFAULT_JOB_ATTEMPTS): JobsOptions {
  return {
    jobId,
    attempts,
    backoff: { type: "exponential", delay: JOB_BACKOFF_MS },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
