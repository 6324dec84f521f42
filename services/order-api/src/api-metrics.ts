import { type ServerInterceptor, ServerInterceptingCall, ServerListenerBuilder, ResponderBuilder, status as grpcStatus } from "@grpc/grpc-js";
import { registerBuildInfo } from "@orderstream/bus";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** gRPC status code numbers to their names (`OK`, `INVALID_ARGUMENT`…), the `code` label's values. */
const CODE_NAMES = new Map<number, string>(
  Object.entries(grpcStatus)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([name, n]) => [n, name]),
);

/** The name of gRPC status `code` (`UNKNOWN` for a number outside the table). */
export function grpcCodeName(code: number): string {
  return CODE_NAMES.get(code) ?? "UNKNOWN";
}

/**
 * order-api's Prometheus metrics (`orderstream_order_api_*`, plus the standard unprefixed
 * `process_*` / `nodejs_*`), on a registry of its own, served on METRICS_PORT.
 */
export class OrderApiMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  /** Finished RPCs by method and gRPC status code. */
  readonly rpcs = new Counter({
    name: "orderstream_order_api_rpcs_total",
    help: "RPCs finished, by method and gRPC status code (a cancelled call counts as CANCELLED)",
    labelNames: ["method", "code"] as const,
    registers: this.registers,
  });
  /** RPC duration by method and code (for a streaming RPC: the stream's lifetime). */
  readonly rpcDuration = new Histogram({
    name: "orderstream_order_api_rpc_duration_seconds",
    help: "Time from an RPC's start to its status, by method and gRPC status code (streams: their lifetime)",
    labelNames: ["method", "code"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600],
    registers: this.registers,
  });
  /** Streaming calls open now, by method (SubscribeOrders, ProcessOrders, BulkCreateOrders, health Watch). */
  readonly streamsOpen = new Gauge({
    name: "orderstream_order_api_streams_open",
    help: "Streaming RPCs open now, by method",
    labelNames: ["method"] as const,
    registers: this.registers,
  });
  /** Orders of BulkCreateOrders streams by outcome: `created`, `invalid` (refused by validation), `failed` (the store failed). */
  readonly bulkOrders = new Counter({
    name: "orderstream_order_api_bulk_orders_total",
    help: "Orders sent in BulkCreateOrders streams, by outcome (created, invalid, failed)",
    labelNames: ["outcome"] as const,
    registers: this.registers,
  });
  /** Orders created by CreateOrder and BulkCreateOrders. */
  readonly ordersCreated = new Counter({
    name: "orderstream_order_api_orders_created_total",
    help: "Orders created (CreateOrder and BulkCreateOrders; idempotent replays not counted)",
    registers: this.registers,
  });
  /** SubscribeOrders streams cancelled because they read too slowly. */
  readonly slowSubscribersCancelled = new Counter({
    name: "orderstream_order_api_slow_subscribers_cancelled_total",
    help: "SubscribeOrders streams cancelled for reading too slowly (SUBSCRIBE_MAX_PENDING)",
    registers: this.registers,
  });

  private redisReady: () => boolean = () => false;
  /** 1 while the Redis command connection is ready. */
  readonly redisUp: Gauge = new Gauge({
    name: "orderstream_order_api_redis_up",
    help: "1 while order-api's Redis command connection is ready, 0 otherwise",
    registers: this.registers,
    collect: (): void => this.redisUp.set(this.redisReady() ? 1 : 0),
  });

  /** `defaults`: also collect Node's standard process metrics (the process does; tests need not). */
  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
    registerBuildInfo(this.registry, "order-api");
  }

  /** Reports `ready()` as orderstream_order_api_redis_up at every scrape. */
  trackRedis(ready: () => boolean): void {
    this.redisReady = ready;
  }

  /**
   * A gRPC server interceptor that counts every call by method and status code, observes its
   * duration, and keeps the open streams gauge (a call ends once: its status, or its cancel).
   */
  interceptor(): ServerInterceptor {
    return (descriptor, call) => {
      const method = descriptor.path.slice(descriptor.path.lastIndexOf("/") + 1);
      const streaming = descriptor.requestStream || descriptor.responseStream;
      const t0 = performance.now();
      let ended = false;
      if (streaming) this.streamsOpen.inc({ method });
      const end = (code: number): void => {
        if (ended) return;
        ended = true;
        const labels = { method, code: grpcCodeName(code) };
        this.rpcs.inc(labels);
        this.rpcDuration.observe(labels, (performance.now() - t0) / 1000);
        if (streaming) this.streamsOpen.dec({ method });
      };
      return new ServerInterceptingCall(
        call,
        new ResponderBuilder()
          .withStart((next) => next(new ServerListenerBuilder().withOnCancel(() => end(grpcStatus.CANCELLED)).build()))
          .withSendStatus((st, next) => {
            end(st.code ?? grpcStatus.UNKNOWN);
            next(st);
          })
          .build(),
      );
    };
  }
}
