import type { JobsOptions } from "bullmq";

/** Name of order jobs on the `orders` queue (the worker ignores names). */
export const ORDER_JOB_NAME = "order";

/** Data of an order job: the processor loads the order by id. */
export interface OrderJobData {
  orderId: string;
}

/** Retries an order job gets unless configured otherwise (the processor's JOB_ATTEMPTS default). */
export const DEFAULT_JOB_ATTEMPTS = 5;

/** Base delay of the exponential retry backoff of an order job. */
export const JOB_BACKOFF_MS = 500;

/**
 * Options every order job is added with, by order-api and by the outbox sweeper alike: the job
 * id is the order id (so adding it twice is a no-op), retries back off exponentially, and
 * finished jobs are trimmed instead of kept forever.
 */
export function orderJobOptions(orderId: string, attempts: number = DEFAULT_JOB_ATTEMPTS): JobsOptions {
  return {
    jobId: orderId,
    attempts,
    backoff: { type: "exponential", delay: JOB_BACKOFF_MS },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
