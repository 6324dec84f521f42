import { Metadata, type ServerReadableStream, type sendUnaryData, status } from "@grpc/grpc-js";
import type { OrderStore } from "@orderstream/bus";
import { type ValidOrderRequest, ValidationError, validateCreateOrder } from "@orderstream/domain";
import type { BulkError, BulkResponse, CreateOrderRequest } from "@orderstream/proto";
import type { Principal } from "@orderstream/auth";
import type { Logger } from "pino";
import { ApiError, toServiceError } from "./api-error.js";
import type { OrderApiMetrics } from "./api-metrics.js";
import type { ApiStats } from "./api-stats.js";
import { type CallAuth, requireOwnOrders } from "./call-auth.js";

/** Batches being written while the stream goes on being read; more pauses reading. */
const MAX_BATCHES_IN_FLIGHT = 2;

/** What BulkCreateOrders needs. */
export interface BulkCreateDeps {
  store: OrderStore;
  stats: ApiStats;
  metrics: Pick<OrderApiMetrics, "ordersCreated" | "bulkOrders">;
  log: Logger;
  /** Requests one stream may carry; more ends it RESOURCE_EXHAUSTED. */
  maxOrders: number;
  /** Orders written per batch (one script per partition chunk of it). */
  batchSize: number;
  auth: CallAuth;
}

/**
 * BulkCreateOrders: validates each request as it arrives (on `data` events, no per-message
 * promise), writes valid ones in batches, and reports invalid ones by 0-based index. While
 * {@link MAX_BATCHES_IN_FLIGHT} batches are being written the stream is paused, so HTTP/2 flow
 * control holds the client back and nothing is buffered without bound. Over `maxOrders` requests
 * the call ends RESOURCE_EXHAUSTED; the orders written before that point stay created. A request
 * for another user than the caller's (not an admin) ends the call PERMISSION_DENIED the same way.
 */
export function bulkCreateOrders(deps: BulkCreateDeps) {
  return (call: ServerReadableStream<CreateOrderRequest, BulkResponse>, callback: sendUnaryData<BulkResponse>): void => {
    // Headers first: a grpc-js client keeps every message it sent for a retry until the call is
    // committed by the server's headers, and re-slices that buffer per message (O(n²) per stream).
    call.sendMetadata(new Metadata());
    // Nothing is read before the caller is known: unread messages wait under HTTP/2 flow control.
    deps.auth.caller(call.metadata).then(
      (who) => {
        if (!call.cancelled) readRequests(deps, call, callback, who);
      },
      (err: unknown) => {
        if (!call.cancelled) callback(toServiceError(err, deps.log, { rpc: "BulkCreateOrders" }));
      },
    );
  };
}

/** Reads the stream of a caller that is known: validates, checks ownership, writes in batches. */
function readRequests(
  deps: BulkCreateDeps,
  call: ServerReadableStream<CreateOrderRequest, BulkResponse>,
  callback: sendUnaryData<BulkResponse>,
  who: Principal,
): void {
  const response: BulkResponse = { createdCount: 0, orderIds: [], errors: [] };
  let batch: ValidOrderRequest[] = [];
  let index = 0;
  let inFlight = 0;
  let finished = false;
  // Batches are stored one after another (ids come back in request order).
  let writing: Promise<void> = Promise.resolve();
  let failure: unknown;

  const finish = (err: unknown): void => {
    if (finished) return;
    finished = true;
    call.removeAllListeners("data");
    void writing.then(() => {
      if (call.cancelled) {
        deps.log.info({ rpc: "BulkCreateOrders", created: response.createdCount }, "bulk stream cancelled by the client");
        return;
      }
      const e = err ?? failure;
      if (e) callback(toServiceError(e, deps.log, { rpc: "BulkCreateOrders", created: response.createdCount }));
      else callback(null, response);
    });
  };

  const writeBatch = (): void => {
    if (batch.length === 0) return;
    const reqs = batch;
    batch = [];
    inFlight++;
    if (inFlight >= MAX_BATCHES_IN_FLIGHT) call.pause();
    writing = writing.then(async () => {
      if (failure) return;
      try {
        const orders = await deps.store.createMany(reqs);
        response.createdCount += orders.length;
        for (const o of orders) response.orderIds.push(o.id);
        deps.stats.ordersCreated += orders.length;
        deps.metrics.ordersCreated.inc(orders.length);
        deps.metrics.bulkOrders.inc({ outcome: "created" }, orders.length);
      } catch (err) {
        deps.metrics.bulkOrders.inc({ outcome: "failed" }, reqs.length);
        failure = err;
        finish(err);
      } finally {
        inFlight--;
        if (!finished && inFlight < MAX_BATCHES_IN_FLIGHT) call.resume();
      }
    });
  };

  call.on("data", (req: CreateOrderRequest) => {
    if (finished) return;
    if (index >= deps.maxOrders) {
      // Store what was valid before the limit, then end the call.
      writeBatch();
      finish(
        new ApiError(
          status.RESOURCE_EXHAUSTED,
          `more than MAX_BULK_ORDERS (${deps.maxOrders}) requests in one stream; the valid orders before it were created`,
        ),
      );
      return;
    }
    try {
      const valid = validateCreateOrder(req);
      requireOwnOrders(who, valid.userId);
      batch.push(valid);
    } catch (err) {
      if (!(err instanceof ValidationError)) {
        finish(err);
        return;
      }
      const e: BulkError = { index, message: err.message };
      response.errors.push(e);
      deps.metrics.bulkOrders.inc({ outcome: "invalid" });
    }
    index++;
    if (batch.length >= deps.batchSize) writeBatch();
  });
  call.on("end", () => {
    if (finished) return;
    writeBatch();
    finish(undefined);
  });
  call.on("error", (err) => finish(err));
  call.on("cancelled", () => finish(new ApiError(status.CANCELLED, "cancelled by the client")));
}
