import { Metadata, type ServerReadableStream, type sendUnaryData, status } from "@grpc/grpc-js";
import type { OrderStore } from "@orderstream/bus";
import { type ValidOrderRequest, ValidationError, validateCreateOrder } from "@orderstream/domain";
import type { BulkError, BulkResponse, CreateOrderRequest } from "@orderstream/proto";
import type { Logger } from "pino";
import { ApiError, toServiceError } from "./api-error.js";
import type { ApiStats } from "./api-stats.js";
import type { OrderQueue } from "./order-queue.js";

/** Batches stored ahead of the one being read before reading waits for Redis. */
const MAX_BATCHES_IN_FLIGHT = 2;

/** What BulkCreateOrders needs. */
export interface BulkCreateDeps {
  store: OrderStore;
  queue: OrderQueue;
  stats: ApiStats;
  log: Logger;
  /** Requests one stream may carry; more ends it RESOURCE_EXHAUSTED. */
  maxOrders: number;
  /** Orders written per pipelined round trip. */
  batchSize: number;
}

/**
 * BulkCreateOrders: validates each request as it arrives, writes valid ones in pipelined batches
 * and queues their jobs; invalid ones are reported by 0-based index. The stream is read through
 * its async iterator, so nothing more is read (and HTTP/2 flow control holds the client back)
 * while a batch is being written. Over `maxOrders` requests the call ends RESOURCE_EXHAUSTED;
 * the orders written before that point stay created.
 */
export function bulkCreateOrders(deps: BulkCreateDeps) {
  return (call: ServerReadableStream<CreateOrderRequest, BulkResponse>, callback: sendUnaryData<BulkResponse>): void => {
    const response: BulkResponse = { createdCount: 0, orderIds: [], errors: [] };
    // Headers first: a grpc-js client keeps every message it sent for a retry until the call is
    // committed by the server's headers, and re-slices that buffer per message (O(n²) per stream).
    call.sendMetadata(new Metadata());
    let batch: ValidOrderRequest[] = [];
    // Batches are stored in order, one pipeline at a time, while the stream goes on being read
    // (at most MAX_BATCHES_IN_FLIGHT ahead); their jobs are queued in the background.
    let writing: Promise<void> = Promise.resolve();
    let inFlight = 0;

    const storeBatch = async (reqs: ValidOrderRequest[]): Promise<void> => {
      const orders = await deps.store.createMany(reqs);
      const ids = orders.map((o) => o.id);
      response.createdCount += ids.length;
      response.orderIds.push(...ids);
      deps.stats.ordersCreated += ids.length;
      deps.queue.enqueueSoon(ids);
    };

    const writeBatch = async (): Promise<void> => {
      if (batch.length === 0) return;
      const reqs = batch;
      batch = [];
      inFlight++;
      const next = writing.then(() => storeBatch(reqs));
      writing = next.finally(() => inFlight--);
      // A failed write is reported once, by whoever awaits `writing` next.
      writing.catch(() => undefined);
      if (inFlight >= MAX_BATCHES_IN_FLIGHT) await writing;
    };

    const run = async (): Promise<BulkResponse> => {
      let index = 0;
      for await (const req of call as AsyncIterable<CreateOrderRequest>) {
        if (index >= deps.maxOrders) {
          throw new ApiError(
            status.RESOURCE_EXHAUSTED,
            `more than MAX_BULK_ORDERS (${deps.maxOrders}) requests in one stream; ` +
              `the first ${response.createdCount} valid orders were created`,
          );
        }
        try {
          batch.push(validateCreateOrder(req));
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          const e: BulkError = { index, message: err.message };
          response.errors.push(e);
        }
        index++;
        if (batch.length >= deps.batchSize) await writeBatch();
      }
      // A cancelled call ends the iteration quietly: do not write what is left of its last batch.
      if (call.cancelled) throw new ApiError(status.CANCELLED, "cancelled by the client");
      await writeBatch();
      await writing;
      await deps.queue.settled();
      return response;
    };

    run().then(
      (res) => callback(null, res),
      async (err: unknown) => {
        await writing.catch(() => undefined);
        if (call.cancelled) {
          deps.log.info({ rpc: "BulkCreateOrders", created: response.createdCount }, "bulk stream cancelled by the client");
          return;
        }
        callback(toServiceError(err, deps.log, { rpc: "BulkCreateOrders", created: response.createdCount }));
      },
    );
  };
}
