import { Metadata, type ServiceError, credentials } from "@grpc/grpc-js";
import { type TestRedis, startRedis } from "@orderstream/testkit";
import type { EventFrame } from "@orderstream/domain";
import { type CreateOrderRequest, type Order, OrderServiceClient, type OrderAction, type OrderResult } from "@orderstream/proto";
import { Queue } from "bullmq";
import { BULLMQ_PREFIX, ORDERS_QUEUE, historyKey } from "@orderstream/bus";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { type OrderApiConfig, loadConfig } from "../config.js";
import { type OrderApi, startOrderApi } from "../server.js";

/** A real redis-server, an in-process order-api on it, and a generated gRPC client. */
export interface ApiHarness {
  redis: TestRedis;
  api: OrderApi;
  config: OrderApiConfig;
  client: OrderServiceClient;
  address: string;
  /** A plain Redis client for assertions. */
  r: Redis;
  close(): Promise<void>;
}

/** Starts redis-server and order-api (ephemeral port, silent logs unless TEST_LOG_LEVEL). */
export async function startHarness(over: Partial<OrderApiConfig> = {}): Promise<ApiHarness> {
  const redis = await startRedis();
  const config: OrderApiConfig = {
    ...loadConfig({ REDIS_URL: redis.url }),
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    shutdownTimeoutMs: 3000,
    ...over,
  };
  const api = await startOrderApi(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
  const address = `127.0.0.1:${api.port}`;
  const client = new OrderServiceClient(address, credentials.createInsecure());
  const r = redis.client();
  return {
    redis,
    api,
    config,
    client,
    address,
    r,
    async close() {
      client.close();
      await api.stop(3000);
      await redis.stop();
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

/** The event frames stored in a channel's history stream, oldest first. */
export async function historyFrames(r: Redis, channel: string): Promise<EventFrame[]> {
  const entries = await r.xrange(historyKey(channel), "-", "+");
  return entries.map(([, fields]) => JSON.parse(fields[1] as string) as EventFrame);
}

/** A BullMQ view of the `orders` queue for assertions; close it after use. */
export function ordersQueue(redis: TestRedis): Queue {
  return new Queue(ORDERS_QUEUE, { connection: { host: "127.0.0.1", port: redis.port }, prefix: BULLMQ_PREFIX });
}

/** Resolves once a SubscribeOrders stream is live (its response headers arrived). */
export function subscribed(stream: { once(event: "metadata", cb: (md: unknown) => void): unknown }): Promise<void> {
  return new Promise((resolve) => stream.once("metadata", () => resolve()));
}
