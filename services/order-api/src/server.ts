import { Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { NodeHeartbeat, OrderStore, Partitioning, RedisBroker, closeRedis, ensureLayout, isClusterUrl } from "@orderstream/bus";
import { TokenVerifier } from "@orderstream/auth";
import { health } from "@orderstream/proto";
import type { Logger } from "pino";
import { type OpsHttpServer, startOpsHttpServer } from "@orderstream/bus";
import { OrderApiMetrics } from "./api-metrics.js";
import { type ApiStats, newApiStats } from "./api-stats.js";
import { bulkCreateOrders } from "./bulk-create-orders.js";
import { CallAuth } from "./call-auth.js";
import type { OrderApiConfig } from "./config.js";
import { createOrder } from "./create-order.js";
import { FeedHub } from "./feed-hub.js";
import { HealthState, healthHandlers } from "./health-service.js";
import { createLogger } from "./logger.js";
import { ORDER_SERVICE } from "./order-service-definition.js";
import { OrderQueue } from "./order-queue.js";
import type { StoredBatch } from "@orderstream/bus";
import { processOrders } from "./process-orders.js";
import { COMMAND_TIMEOUT_MS, connectRedis } from "./redis-connections.js";
import { addReflection } from "./reflection.js";
import { StreamRegistry } from "./stream-registry.js";
import { subscribeOrders } from "./subscribe-orders.js";

/** A running order-api. */
export interface OrderApi {
  /** The bound gRPC port. */
  port: number;
  /** The bound port of /metrics, /healthz and /readyz (METRICS_PORT). */
  metricsPort: number;
  stats: ApiStats;
  metrics: OrderApiMetrics;
  health: HealthState;
  /**
   * Graceful, idempotent stop within `deadlineMs` (default SHUTDOWN_TIMEOUT_MS): NOT_SERVING, end
   * streams, stop accepting and finish calls (forced at the deadline), close the queue and Redis.
   */
  stop(deadlineMs?: number): Promise<void>;
}

/** gRPC keepalive: ping idle connections so dead peers are noticed; accept client pings >= 10 s. */
const KEEPALIVE_OPTIONS = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  "grpc.max_connection_idle_ms": 15 * 60_000,
};

function bind(server: Server, host: string, port: number, tls: OrderApiConfig["tls"]): Promise<number> {
  const creds = tls ? ServerCredentials.createSsl(null, [{ cert_chain: tls.certChain, private_key: tls.privateKey }], false) : ServerCredentials.createInsecure();
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** Runs one shutdown step: errors are logged, and the step is abandoned after `timeoutMs`. */
async function step(log: Logger, name: string, timeoutMs: number, fn: () => unknown): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ step: name, timeoutMs }, "shutdown step timed out");
      resolve();
    }, Math.max(0, timeoutMs));
  });
  try {
    await Promise.race([Promise.resolve().then(fn), late]);
  } catch (err) {
    log.error({ err, step: name }, "shutdown step failed");
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts order-api in this process: Redis connections (fails when Redis is not reachable within
 * 10 s), the BullMQ queue, the shared channel feed, and the gRPC server with OrderService, health
 * and reflection. Logs go to `log` (default: pino on stdout at config.logLevel).
 */
export async function startOrderApi(
  config: OrderApiConfig,
  log: Logger = createLogger(config.logLevel),
  opts: { defaultMetrics?: boolean } = {},
): Promise<OrderApi> {
  // A write's WAIT runs on the command connection: give it room for the WAIT timeout.
  const conns = await connectRedis(config.redisUrl, log, undefined, config.waitReplicas ? COMMAND_TIMEOUT_MS + config.waitReplicas.timeoutMs : undefined);
  const { cmd, bulk, sub, bull } = conns;
  try {
    await ensureLayout(cmd, new Partitioning(config.partitions));
  } catch (err) {
    for (const c of conns.all) c.disconnect();
    throw err;
  }
  const healthState = new HealthState();
  cmd.on("ready", () => healthState.setRedisUp(true));
  cmd.on("close", () => healthState.setRedisUp(false));
  healthState.setRedisUp(cmd.status === "ready");

  const sharded = isClusterUrl(config.redisUrl);
  const history = config.history;
  const partitions = new Partitioning(config.partitions);
  // The queue is created first; stores hand it every batch of new orders they stored.
  let queue: OrderQueue | undefined;
  const storeOptions = {
    history,
    idempotencyTtlMs: config.idempotencyTtlMs,
    sharded,
    partitions,
    onBatchStored: (b: StoredBatch) => queue?.enqueueSoon(b),
    ...(config.waitReplicas ? { waitReplicas: config.waitReplicas } : {}),
  };
  const store = new OrderStore(cmd, storeOptions);
  const bulkStore = new OrderStore(bulk, storeOptions);
  queue = new OrderQueue(bull, store, log);
  const orderQueue = queue;
  const stats = newApiStats();
  const metrics = new OrderApiMetrics(opts.defaultMetrics ?? true);
  metrics.trackRedis(() => cmd.status === "ready");
  const streams = new StreamRegistry();
  const hub = new FeedHub(new RedisBroker(sub, bulk, { sharded }), log, {
    partitions,
    onError: (err, ctx) => log.warn({ err, ...ctx }, "channel feed problem"),
  });

  const server = new Server({
    "grpc.max_receive_message_length": config.maxMessageBytes,
    "grpc.max_send_message_length": config.maxMessageBytes,
    ...KEEPALIVE_OPTIONS,
    interceptors: [metrics.interceptor()],
  });
  // ORDER_API_AUTH: OrderService calls carry a bearer token (jwt) or are unchecked (off).
  const auth = new CallAuth(config.authKeys ? new TokenVerifier(config.authKeys) : undefined);
  server.addService(ORDER_SERVICE, {
    createOrder: createOrder({ store, stats, metrics, log, auth }),
    bulkCreateOrders: bulkCreateOrders({
      store: bulkStore,
      stats,
      metrics,
      log,
      maxOrders: config.maxBulkOrders,
      batchSize: config.bulkBatchSize,
      auth,
    }),
    subscribeOrders: subscribeOrders({
      hub,
      streams,
      maxPending: config.subscribeMaxPending,
      stats,
      metrics,
      log,
      redisUp: () => cmd.status === "ready",
      auth,
    }),
    processOrders: processOrders({ store, streams, log, auth }),
  } as UntypedServiceImplementation);
  server.addService(health.HealthService, healthHandlers(healthState, streams));
  addReflection(server);

  let port: number;
  let ops: OpsHttpServer | undefined;
  let draining = false;
  try {
    port = await bind(server, config.grpcHost, config.grpcPort, config.tls);
    ops = await startOpsHttpServer({
      port: config.metricsPort,
      portVariable: "METRICS_PORT",
      readiness: () => ({ redis: cmd.status === "ready", notDraining: !draining }),
      metrics: metrics.registry,
      onError: (err, what) => log.error({ err }, what),
    });
  } catch (err) {
    server.forceShutdown();
    await orderQueue.close().catch(() => undefined);
    for (const c of conns.all) c.disconnect();
    throw err;
  }

  // The node registry (the admin page's nodes table): this order-api and its figures.
  const heartbeat = new NodeHeartbeat(cmd, {
    service: "order-api",
    stats: () => ({ orders_created: stats.ordersCreated, subscribers: stats.subscribers }),
    onError: (err) => log.warn({ err }, "node registry heartbeat failed"),
  });
  heartbeat.start();

  let stopping: Promise<void> | undefined;
  const stop = (deadlineMs = config.shutdownTimeoutMs): Promise<void> => {
    stopping ??= (async () => {
      const deadline = Date.now() + deadlineMs;
      log.info({ deadlineMs }, "order-api stopping");
      await step(log, "node registry", 1000, () => heartbeat.stop());
      healthState.setDraining();
      draining = true;
      streams.closeAll();
      // Leave a quarter of the budget (at most 2 s) for closing the queue and Redis.
      const drainMs = Math.max(0, deadline - Date.now() - Math.min(2000, deadlineMs / 4));
      let drained = false;
      await step(log, "grpc drain", drainMs, async () => {
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        drained = true;
      });
      if (!drained) {
        log.warn({ drainMs }, "calls still open at the deadline; forcing shutdown");
        server.forceShutdown();
      }
      const left = (): number => Math.max(100, deadline - Date.now());
      await step(log, "queue close", left(), () => orderQueue.close());
      await step(log, "redis close", left(), () => Promise.all(conns.all.map((c) => closeRedis(c))));
      await step(log, "metrics server close", left(), () => opsServer.close());
      for (const c of conns.all) c.disconnect();
      log.info("order-api stopped");
    })();
    return stopping;
  };

  const opsServer = ops;
  return { port, metricsPort: opsServer.port, stats, metrics, health: healthState, stop };
}
