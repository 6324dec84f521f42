import { Queue, type Worker } from "bullmq";
import {
  BULLMQ_PREFIX,
  ORDERS_QUEUE,
  OrderStore,
  type RedisConnection,
  closeRedis,
  createRedis,
  isClusterUrl,
  waitReady,
} from "@orderstream/bus";
import type { Logger } from "pino";
import type { ProcessorConfig } from "./config.js";
import { type HealthServer, startHealthServer } from "./health-server.js";
import { createLogger } from "./logger.js";
import { type ProcessorMetrics, createMetrics } from "./metrics.js";
import type { OrderJobData } from "./order-steps.js";
import { createOrderWorker } from "./order-worker.js";
import { OutboxSweeper } from "./outbox-sweeper.js";

/** How long start-up waits for Redis before giving up. */
const REDIS_READY_TIMEOUT_MS = 10_000;

/** A running processor. */
export interface Processor {
  /** Port of the /healthz /readyz /metrics server (useful with HEALTH_PORT=0). */
  healthPort: number;
  metrics: ProcessorMetrics;
  worker: Worker<OrderJobData, string>;
  /** Stops everything in order; idempotent (later calls return the same promise). */
  stop(): Promise<void>;
}

/** Options of {@link startProcessor}. */
export interface StartOptions {
  logger?: Logger;
  /** Collect Node process metrics too (the process does; in-process tests need not). */
  defaultMetrics?: boolean;
}

/**
 * Starts a processor: Redis connections, the BullMQ worker on `orders`, the outbox sweeper and
 * the health server; logs `ready` once all run. On a start-up failure everything started so far
 * is closed again before the error is thrown.
 */
export async function startProcessor(config: ProcessorConfig, opts: StartOptions = {}): Promise<Processor> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics(opts.defaultMetrics ?? false);
  const onError = (name: string) => (err: Error) => logger.warn({ err: err.message, conn: name }, "redis connection error");
  const commandConn: RedisConnection = createRedis(config.redisUrl, {
    role: "command",
    name: "processor-cmd",
    onError: onError("command"),
  });
  const bullConn: RedisConnection = createRedis(config.redisUrl, {
    role: "bullmq",
    name: "processor-bullmq",
    onError: onError("bullmq"),
  });
  let worker: Worker<OrderJobData, string> | undefined;
  let queue: Queue<OrderJobData, string> | undefined;
  let sweeper: OutboxSweeper | undefined;
  let health: HealthServer | undefined;
  let shuttingDown = false;
  let stopping: Promise<void> | undefined;

  const step = async (name: string, fn: () => Promise<void> | void): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      logger.error({ err, step: name }, "shutdown step failed");
    }
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      shuttingDown = true;
      logger.info("processor stopping");
      await step("outbox sweeper", () => sweeper?.stop());
      await step("worker", () => worker?.close());
      await step("queue", () => queue?.close());
      await step("health server", () => health?.close());
      await step("redis", async () => {
        await Promise.all([closeRedis(commandConn), closeRedis(bullConn)]);
      });
      logger.info("processor stopped");
    })();
    return stopping;
  };

  try {
    await Promise.all([waitReady(commandConn, REDIS_READY_TIMEOUT_MS), waitReady(bullConn, REDIS_READY_TIMEOUT_MS)]);
    const store = new OrderStore(commandConn, {
      history: config.history,
      sharded: isClusterUrl(config.redisUrl),
    });
    const delays = { shipDelayMs: config.shipDelayMs, deliverDelayMs: config.deliverDelayMs };
    const w = createOrderWorker(bullConn, config, { store, delays, metrics, logger });
    worker = w;
    queue = new Queue<OrderJobData, string>(ORDERS_QUEUE, { connection: bullConn as never, prefix: BULLMQ_PREFIX });
    queue.on("error", (err) => logger.warn({ err: err.message }, "outbox queue connection error"));
    await Promise.all([w.waitUntilReady(), queue.waitUntilReady()]);
    sweeper = new OutboxSweeper(
      store,
      queue,
      { intervalMs: config.outboxSweepIntervalMs, staleMs: config.outboxStaleMs, jobAttempts: config.jobAttempts },
      metrics,
      logger,
    );
    sweeper.start();
    health = await startHealthServer(
      config.healthPort,
      () => ({
        worker: w.isRunning(),
        redis: commandConn.status === "ready" && bullConn.status === "ready",
        notShuttingDown: !shuttingDown,
      }),
      metrics.registry,
      logger,
    );
  } catch (err) {
    logger.error({ err }, "processor failed to start");
    await stop();
    throw err;
  }
  logger.info(
    {
      healthPort: health.port,
      concurrency: config.concurrency,
      shipDelayMs: config.shipDelayMs,
      deliverDelayMs: config.deliverDelayMs,
    },
    "ready",
  );
  return { healthPort: health.port, metrics, worker, stop };
}
