import type { ClientReadableStream, Metadata } from "@grpc/grpc-js";
import type { Order, OrderServiceClient } from "@orderstream/proto";
import { createOrder, grpcCodeName, makeOrderClient, syntheticOrder } from "./grpc-client.js";
import { closedLoop, openLoop, type PaceBounds } from "./pacer.js";
import { poolUserId } from "./socket-plan.js";
import type { StatsCollector } from "./stats.js";

const RPC_TIMEOUT_MS = 10_000;
const MAX_INFLIGHT = 10_000;

/** What the gRPC drivers share. */
export interface GrpcLoadContext {
  address: string;
  client: OrderServiceClient;
  md: Metadata;
  stats: StatsCollector;
  users: number;
  /** Order numbers over the whole run: call n creates synthetic order offset + n × stride (one slice of several). */
  numbering?: { offset: number; stride: number };
}

function orderNumber(ctx: GrpcLoadContext, n: number): number {
  return ctx.numbering ? ctx.numbering.offset + n * ctx.numbering.stride : n;
}

/** Called with each created order and the epoch time (ms) its CreateOrder was sent. */
export type OnCreated = (order: Order, sentAt: number) => void;

/**
 * Unary CreateOrder load: open loop at `rate`/s, or closed loop with `concurrency` in flight
 * when concurrency > 0. Records `rpc` latency; returns the number of calls issued.
 */
export function runCreateLoad(
  ctx: GrpcLoadContext,
  rate: number,
  concurrency: number,
  bounds: PaceBounds,
  onCreated?: OnCreated,
): Promise<number> {
  const fire = async (n: number): Promise<void> => {
    const req = syntheticOrder(orderNumber(ctx, n), ctx.users);
    const sentAt = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    try {
      const order = await createOrder(ctx.client, req, ctx.md, RPC_TIMEOUT_MS);
      ctx.stats.record("rpc", performance.now() - t0);
      ctx.stats.counters.requests++;
      ctx.stats.counters.ordersCreated++;
      onCreated?.(order, sentAt);
    } catch (err) {
      ctx.stats.requestError(grpcCodeName(err));
    }
  };
  if (concurrency > 0) return closedLoop(concurrency, bounds, fire);
  return openLoop(rate, bounds, MAX_INFLIGHT, fire, () => ctx.stats.requestError("CLIENT_BACKLOG"));
}

/**
 * BulkCreateOrders load: `concurrency` parallel lanes, each streaming `batch` requests per call
 * until the bounds stop it (maxCount counts orders). Records `rpc` latency per stream.
 */
export async function runBulkLoad(ctx: GrpcLoadContext, batch: number, concurrency: number, bounds: PaceBounds): Promise<void> {
  let next = 0;
  const streamOnce = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const call = ctx.client.bulkCreateOrders(ctx.md, { deadline: Date.now() + 60_000 }, (err, res) => {
        if (err) ctx.stats.requestError(grpcCodeName(err));
        else {
          ctx.stats.record("rpc", performance.now() - t0);
          ctx.stats.counters.requests++;
          ctx.stats.counters.ordersCreated += res.createdCount;
          if (res.errors.length > 0) ctx.stats.error("bulk_rejected_item");
        }
        resolve();
      });
      let size = batch;
      if (bounds.maxCount > 0) size = Math.min(size, bounds.maxCount - next);
      for (let i = 0; i < size; i++) call.write(syntheticOrder(orderNumber(ctx, next++), ctx.users));
      call.end();
    });
  const lane = async (): Promise<void> => {
    while (!bounds.signal.aborted && (bounds.maxCount === 0 || next < bounds.maxCount)) await streamOnce();
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
}

/** Open SubscribeOrders streams (`open` counts live streams, `connects` those that got headers). */
export interface StreamSet {
  stop(): void;
}

/** Streams per HTTP/2 connection: one shared connection's flow-control window throttles them all. */
const STREAMS_PER_CONNECTION = 100;

/**
 * Opens `streams` SubscribeOrders streams (a `userRatio` share filtered by a pool user), 100 per
 * HTTP/2 connection, and counts the orders they deliver; `delivery` latency from createdAt for
 * PENDING (new) orders. Stream i is global stream `firstStream + i` for the user assignment.
 */
export function openSubscribeStreams(ctx: GrpcLoadContext, streams: number, userRatio: number, firstStream = 0): StreamSet {
  const calls: ClientReadableStream<Order>[] = [];
  const clients: OrderServiceClient[] = [];
  let stopping = false;
  for (let i = 0; i < streams; i++) {
    if (i % STREAMS_PER_CONNECTION === 0) clients.push(makeOrderClient(ctx.address, true));
    const client = clients[clients.length - 1] as OrderServiceClient;
    const g = firstStream + i;
    const before = Math.floor(g * userRatio);
    const userId = Math.floor((g + 1) * userRatio) > before ? poolUserId(before % Math.max(1, ctx.users)) : "";
    const t0 = performance.now();
    const call = client.subscribeOrders({ statuses: [], userId, sinceOffset: "" }, ctx.md);
    let open = true;
    let gotHeaders = false;
    ctx.stats.open++;
    call.on("metadata", () => {
      gotHeaders = true;
      ctx.stats.counters.connects++;
      ctx.stats.counters.subscribed++; // order-api sends headers once the stream is live
      ctx.stats.record("connect", performance.now() - t0);
    });
    call.on("data", (order: Order) => {
      ctx.stats.counters.messages++;
      if (order.status === 0 && order.createdAt) {
        const lat = Date.now() - order.createdAt.getTime();
        ctx.stats.record("delivery", Math.max(0, lat));
      }
    });
    call.on("error", (err) => {
      if (stopping) return;
      if (!gotHeaders) ctx.stats.connectError(grpcCodeName(err));
      else ctx.stats.error(`stream_${grpcCodeName(err)}`);
    });
    call.on("close", () => {
      if (open) ctx.stats.open--;
      open = false;
    });
    calls.push(call);
  }
  return {
    stop() {
      stopping = true;
      for (const c of calls) c.cancel();
      for (const c of clients) c.close();
    },
  };
}
