import { Metadata, type ServiceError, credentials } from "@grpc/grpc-js";
import { type TestRedis, type TestRedisCluster, startRedis, startRedisCluster } from "@orderstream/testkit";
import type { EventFrame } from "@orderstream/domain";
import { type CreateOrderRequest, type Order, OrderServiceClient, type OrderAction, type OrderResult } from "@orderstream/proto";
import type { Job } from "bullmq";
import { type OrderJobData, OrderStore, Partitioning, type RedisConnection, createOrderQueues, createRedis, readChannelHistory, waitReady } from "@orderstream/bus";
import { pino } from "pino";
import { type OrderApiConfig, loadConfig } from "../config.js";
import { type OrderApi, startOrderApi } from "../server.js";

/** The Redis topologies the order path's integration tests run on. */
export type Topology = "single" | "cluster";

/** A real Redis (one node or a 3-master cluster), an in-process order-api on it, and a gRPC client. */
export interface ApiHarness {
  /** The redis-server of a single-node harness (outage tests stop and start it). */
  redis: TestRedis;
  cluster: TestRedisCluster | undefined;
  api: OrderApi;
  config: OrderApiConfig;
  client: OrderServiceClient;
  address: string;
  /** A Redis client for assertions (a Cluster client on a cluster). */
  r: RedisConnection;
  close(): Promise<void>;
}

/**
 * Starts Redis (a single redis-server, or a 3-master cluster) and order-api on it (ephemeral port,
 * silent logs unless TEST_LOG_LEVEL).
 */
export async function startHarness(over: Partial<OrderApiConfig> = {}, topology: Topology = "single"): Promise<ApiHarness> {
  const cluster = topology === "cluster" ? await startRedisCluster() : undefined;
  const redis = cluster ? undefined : await startRedis();
  const url = cluster?.url ?? redis?.url ?? "";
  const config: OrderApiConfig = {
    ...loadConfig({ REDIS_URL: url }),
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    metricsPort: 0,
    shutdownTimeoutMs: 3000,
    ...over,
  };
  const api = await startOrderApi(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }), { defaultMetrics: false });
  const address = `127.0.0.1:${api.port}`;
  const client = new OrderServiceClient(address, credentials.createInsecure());
  const r = createRedis(url, { role: "command", name: "test-assert", commandTimeoutMs: 5000 });
  await waitReady(r);
  return {
    // Only outage tests use it, and they run on a single node.
    redis: redis as TestRedis,
    cluster,
    api,
    config,
    client,
    address,
    r,
    async close() {
      client.close();
      await api.stop(3000);
      r.disconnect();
      await redis?.stop();
      await cluster?.stop();
    },
  };
}

/** A simple valid request. */
export function orderReq(userId = "u1", items = [{ productId: "p1", quantity: 2, price: 9.99 }]): CreateOrderRequest {
  return { userId, items };
}

/** CreateOrder as a promise. */
export function createOrder(
  client: OrderServiceClient,
  req: CreateOrderRequest,
  opts: { key?: string; deadlineMs?: number } = {},
): Promise<Order> {
  const md = new Metadata();
  if (opts.key !== undefined) md.set("idempotency-key", opts.key);
  return new Promise((resolve, reject) => {
    client.createOrder(req, md, { deadline: Date.now() + (opts.deadlineMs ?? 5000) }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** The gRPC error a promise rejected with (fails when it resolved). */
export async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error("expected the call to fail");
}

/** Sends actions over one ProcessOrders stream and collects one result per action. */
export function processActions(client: OrderServiceClient, actions: Partial<OrderAction>[]): Promise<OrderResult[]> {
  return new Promise((resolve, reject) => {
    const results: OrderResult[] = [];
    const call = client.processOrders({ deadline: Date.now() + 15_000 });
    call.on("data", (r: OrderResult) => results.push(r));
    call.on("error", reject);
    call.on("end", () => resolve(results));
    for (const a of actions) call.write({ orderId: "", action: "", payload: Buffer.alloc(0), ...a });
    call.end();
  });
}

/** The event frames stored in a channel's history (an all-orders channel's: each order's in order). */
export async function historyFrames(r: RedisConnection, channel: string): Promise<EventFrame[]> {
  return (await readChannelHistory(r, channel, new Partitioning())).map((f) => JSON.parse(f) as EventFrame);
}

/**
 * The job that carries an order (jobs carry the batch of orders created together), from the
 * order's partition's queue; undefined when there is none (yet).
 */
export async function jobOfOrder(h: ApiHarness, orderId: string): Promise<Job<OrderJobData> | undefined> {
  const partitions = new Partitioning(h.config.partitions);
  const conn = createRedis(h.cluster?.url ?? h.redis.url, { role: "bullmq", name: "test-queue" });
  const queues = createOrderQueues(conn, partitions, () => undefined);
  try {
    const q = queues[partitions.of(orderId)];
    const jobs = (await q?.getJobs(["waiting", "delayed", "active", "completed", "prioritized", "failed"])) ?? [];
    return jobs.find((j) => j.data.orderIds.includes(orderId));
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    conn.disconnect();
  }
}

/** An order as stored, read through the bus (undefined when it does not exist). */
export function storedOrder(h: ApiHarness, orderId: string): Promise<Order | undefined> {
  return new OrderStore(h.r, { partitions: new Partitioning(h.config.partitions) }).get(orderId);
}

/** Number of jobs in every partition's queue, in the given states. */
export async function jobCount(h: ApiHarness, ...states: ("waiting" | "delayed" | "active" | "prioritized" | "completed")[]): Promise<number> {
  const conn = createRedis(h.cluster?.url ?? h.redis.url, { role: "bullmq", name: "test-queue" });
  const queues = createOrderQueues(conn, new Partitioning(h.config.partitions), () => undefined);
  try {
    const counts = await Promise.all(queues.map((q) => q.getJobCounts(...states)));
    return counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    conn.disconnect();
  }
}

/** Resolves once a SubscribeOrders stream is live (its response headers arrived). */
export function subscribed(stream: { once(event: "metadata", cb: (md: unknown) => void): unknown }): Promise<void> {
  return new Promise((resolve) => stream.once("metadata", () => resolve()));
}
