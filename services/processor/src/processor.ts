import type { Queue, Worker } from "bullmq";
import {
  NodeHeartbeat,
  type OrderJobData,
  OrderStore,
  Partitioning,
  type RedisConnection,
  createOrderQueues,
  overdueCount,
  redisMemory,
  closeRedis,
  createRedis,
  ensureLayout,
  isClusterUrl,
  waitReady,
} from "@orderstream/bus";
import type { Logger } from "pino";
import type { ProcessorConfig } from "./config.js";
import { type HealthServer, startHealthServer } from "./health-server.js";
import { createLogger } from "./logger.js";
import { type ProcessorMetrics, createMetrics } from "./metrics.js";
import { createOrderWorker } from "./order-worker.js";
import { DueSweeper } from "./due-sweeper.js";
import { QueueDepthSampler } from "./queue-depth-sampler.js";
import { demoWorkflow, loadWorkflow } from "./workflow-loader.js";

/** Command timeout of the processor's command connection (the api's fail-fast 800 ms is for callers). */
const PROCESSOR_COMMAND_TIMEOUT_MS = 10_000;

/** How long start-up waits for Redis before giving up. */
const REDIS_READY_TIMEOUT_MS = 10_000;

/** A running processor. */
export interface Processor {
  /** Port of the /healthz /readyz /metrics server (useful with HEALTH_PORT=0). */
  healthPort: number;
  metrics: ProcessorMetrics;
  /** One BullMQ worker per assigned partition. */
  workers: Worker<OrderJobData, string>[];
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
 * Starts a processor: Redis connections, a BullMQ worker on the `orders` queue of every assigned
 * partition, the due sweep and the health server; logs `ready` once all run. On a start-up failure everything started so far
 * is closed again before the error is thrown.
 */
export async function startProcessor(config: ProcessorConfig, opts: StartOptions = {}): Promise<Processor> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  // The workflow first: a module that does not load stops start-up before anything connects.
  const workflow = config.workflowPath ? await loadWorkflow(config.workflowPath) : demoWorkflow(config.shipDelayMs, config.deliverDelayMs);
  const metrics = createMetrics(opts.defaultMetrics ?? false);
  const onError = (name: string) => (err: Error) => logger.warn({ err: err.message, conn: name }, "redis connection error");
  const commandConn: RedisConnection = createRedis(config.redisUrl, {
    role: "command",
    name: "processor-cmd",
    // Nobody waits on a processor's reply: under a backlog its scripts may queue behind others.
    commandTimeoutMs: PROCESSOR_COMMAND_TIMEOUT_MS + (config.waitReplicas?.timeoutMs ?? 0),
    onError: onError("command"),
  });
  const bullConn: RedisConnection = createRedis(config.redisUrl, {
    role: "bullmq",
    name: "processor-bullmq",
    onError: onError("bullmq"),
  });
  const workers: Worker<OrderJobData, string>[] = [];
  let queues: Queue<OrderJobData>[] = [];
  let sweeper: DueSweeper | undefined;
  let sampler: QueueDepthSampler | undefined;
  let heartbeat: NodeHeartbeat | undefined;
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
      await step("node registry", () => heartbeat?.stop());
      await step("due sweeper", () => sweeper?.stop());
      await step("queue sampler", () => sampler?.stop());
      await step("workers", async () => {
        await Promise.all(workers.map((w) => w.close()));
      });
      await step("queues", async () => {
        await Promise.all(queues.map((q) => q.close()));
      });
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
    const partitions = new Partitioning(config.partitions);
    await ensureLayout(commandConn, partitions);
    const st = new OrderStore(commandConn, {
      history: config.history,
      sharded: isClusterUrl(config.redisUrl),
      partitions,
      ...(config.waitReplicas ? { waitReplicas: config.waitReplicas } : {}),
    });
    // PROCESSOR_CONCURRENCY is the process's total, split over its partitions' workers.
    const perWorker = Math.max(1, Math.ceil(config.concurrency / config.assignedPartitions.length));
    for (const p of config.assignedPartitions) {
      workers.push(createOrderWorker(bullConn, partitions.tag(p), perWorker, config, { store: st, workflow, metrics, logger }));
    }
    queues = createOrderQueues(bullConn, partitions, (err, partition) =>
      logger.warn({ err: err.message, partition }, "due sweep queue connection error"),
    );
    await Promise.all([...workers.map((w) => w.waitUntilReady()), ...queues.map((q) => q.waitUntilReady())]);
    sweeper = new DueSweeper(
      commandConn,
      partitions,
      queues,
      {
        intervalMs: config.dueSweepIntervalMs,
        graceMs: config.dueGraceMs,
        jobAttempts: config.jobAttempts,
        failedJobRetryMs: config.failedJobRetryMs,
        partitions: config.assignedPartitions,
      },
      metrics,
      logger,
    );
    sweeper.start();
    sampler = new QueueDepthSampler(
      config.assignedPartitions.flatMap((p) => (queues[p] ? [{ partition: p, queue: queues[p] }] : [])),
      config.queueSampleIntervalMs,
      metrics,
      logger,
      (p) => overdueCount(commandConn, partitions, p, config.dueGraceMs),
      () => redisMemory(commandConn),
    );
    sampler.start();
    const depth = sampler;
    // The node registry (the admin page's nodes table): this processor and its queues' depth.
    heartbeat = new NodeHeartbeat(commandConn, {
      service: "processor",
      stats: () => depth.depth(),
      onError: (err) => logger.warn({ err }, "node registry heartbeat failed"),
    });
    metrics.trackRedis(() => commandConn.status === "ready" && bullConn.status === "ready");
    health = await startHealthServer(
      config.healthPort,
      () => ({
        worker: workers.every((w) => w.isRunning()),
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
  heartbeat.start();
  logger.info(
    {
      healthPort: health.port,
      concurrency: config.concurrency,
      partitions: config.assignedPartitions.length === config.partitions ? "all" : config.assignedPartitions.join(","),
      workflow: config.workflowPath ?? "demo timeline",
      shipDelayMs: config.shipDelayMs,
      deliverDelayMs: config.deliverDelayMs,
    },
    "workers started",
  );
  return { healthPort: health.port, metrics, workers, stop };
}
