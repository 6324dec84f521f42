import { Metadata, type ServerWritableStream, type ServiceError, status } from "@grpc/grpc-js";
import type { Order, OrderFilter } from "@orderstream/proto";
import type { Logger } from "pino";
import { ApiError, serviceError, toServiceError } from "./api-error.js";
import type { FeedEvent, FeedHub, HubLease } from "./feed-hub.js";
import type { OrderApiMetrics } from "./api-metrics.js";
import type { ApiStats } from "./api-stats.js";
import { type CallAuth, requireSubscribable } from "./call-auth.js";
import type { StreamRegistry } from "./stream-registry.js";
import { parseSubscribeFilter, resumeToken } from "./subscribe-filter.js";

/** What SubscribeOrders streams need. */
export interface SubscribeDeps {
  hub: FeedHub;
  streams: StreamRegistry;
  /** Messages buffered for one stream (unsent by gRPC + waiting for drain) before it is cancelled. */
  maxPending: number;
  stats: ApiStats;
  metrics: Pick<OrderApiMetrics, "slowSubscribersCancelled">;
  log: Logger;
  /** Whether Redis is reachable now; new streams are refused UNAVAILABLE while it is not. */
  redisUp: () => boolean;
  auth: CallAuth;
}

/**
 * Status of a stream whose since_offset history no longer covers: the client must refetch state
 * (the gRPC analogue of the WebSocket `"recovered":false`).
 */
export const NOT_RECOVERED = serviceError(status.DATA_LOSS, "history no longer covers since_offset; refetch");

type Call = ServerWritableStream<OrderFilter, Order | Buffer>;

/** An encoded message waiting for the stream to drain. */
interface Pending {
  bytes: Buffer;
  replay: boolean;
}

/**
 * SubscribeOrders: replays the events after `since_offset`, then streams live ones, filtered by
 * status; response headers (`subscribed: true`) are sent once no later event can be missed. Writes respect
 * gRPC backpressure; a stream with more than `maxPending` live messages buffered is cancelled
 * with RESOURCE_EXHAUSTED instead of growing memory. Without a user_id it needs an admin caller.
 */
export function subscribeOrders(deps: SubscribeDeps): (call: Call) => void {
  return (call) => {
    void runSubscription(deps, call);
  };
}

async function runSubscription(deps: SubscribeDeps, call: Call): Promise<void> {
  const { hub, log, maxPending, stats } = deps;
  const ctx = { rpc: "SubscribeOrders", peer: call.getPeer() };
  let ended = false;
  const leases: HubLease[] = [];
  const pending: Pending[] = [];
  let blocked = false;
  // Replayed (catch-up) messages waiting in `pending`: bounded by the feed's recovery limit, so
  // they do not count against maxPending; only live messages piling up do.
  let replayWaiting = 0;
  let unregister = (): void => undefined;
  let counted = true;
  const cleanup = (): void => {
    for (const l of leases.splice(0)) l.leave();
    pending.length = 0;
    replayWaiting = 0;
    if (!counted) return;
    counted = false;
    unregister();
    stats.subscribers--;
  };
  const finish = (err?: ServiceError): void => {
    if (ended) return;
    ended = true;
    cleanup();
    if (err) call.emit("error", err);
    else call.end();
  };
  stats.subscribers++;
  unregister = deps.streams.add(() =>
    finish(serviceError(status.UNAVAILABLE, "server shutting down; resubscribe with since_offset")),
  );
  if (ended) return;
  call.on("cancelled", () => {
    if (ended) return;
    ended = true;
    cleanup();
  });

  const flush = (): void => {
    blocked = false;
    while (!ended && !blocked && pending.length > 0) {
      const next = pending.shift() as Pending;
      if (next.replay) replayWaiting--;
      blocked = !call.write(next.bytes);
    }
  };
  call.on("drain", flush);
  const send = (bytes: Buffer, replay: boolean): void => {
    if (ended) return;
    if (!blocked && pending.length === 0) {
      blocked = !call.write(bytes);
      return;
    }
    pending.push({ bytes, replay });
    if (replay) {
      replayWaiting++;
      return;
    }
    const live = pending.length - replayWaiting + (replayWaiting > 0 ? 0 : call.writableLength);
    if (live > maxPending) {
      stats.slowSubscribersCancelled++;
      deps.metrics.slowSubscribersCancelled.inc();
      log.warn({ ...ctx, maxPending }, "cancelling a subscriber that reads too slowly");
      finish(
        serviceError(
          status.RESOURCE_EXHAUSTED,
          `subscriber too slow: more than ${maxPending} messages buffered; resubscribe with since_offset`,
        ),
      );
    }
  };

  try {
    const who = await deps.auth.caller(call.metadata);
    if (ended) return;
    const filter = parseSubscribeFilter(call.request);
    requireSubscribable(who, call.request.userId);
    if (!deps.redisUp()) throw new ApiError(status.UNAVAILABLE, "storage unavailable, retry later");
    const opened = await Promise.allSettled(filter.channels.map((c) => hub.open(c)));
    for (const o of opened) if (o.status === "fulfilled") leases.push(o.value);
    if (ended) return cleanup();
    const failed = opened.find((o) => o.status === "rejected");
    if (failed) throw failed.reason;
    // One snapshot of every channel's position, so each token names a position on all of them.
    const offsets: string[] = leases.map((l, i) => filter.since?.[i] ?? l.offset());
    // Every event after this snapshot reaches the stream (replayed or live): tell the client it is
    // subscribed (the gRPC analogue of the WebSocket `subscribed` frame).
    const md = new Metadata();
    md.set("subscribed", "true");
    call.sendMetadata(md);
    for (const [i, lease] of leases.entries()) {
      const sink = (ev: FeedEvent, replay: boolean): void => {
        offsets[i] = ev.offset;
        if (filter.statuses && !filter.statuses.has(ev.order.status)) return;
        send(ev.encode(resumeToken(offsets)), replay);
      };
      const r = await lease.attach(offsets[i], sink);
      if (ended) return;
      if (!r.recovered) {
        log.info({ ...ctx, channel: filter.channels[i] }, "since_offset no longer covered by history");
        return finish(NOT_RECOVERED);
      }
    }
  } catch (err) {
    finish(toServiceError(err, log, ctx));
  }
}
