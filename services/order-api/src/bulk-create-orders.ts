import { type ServerReadableStream, type sendUnaryData, status } from "@grpc/grpc-js";
import type { OrderStore } from "@orderstream/bus";
import { type ValidOrderRequest, ValidationError, validateCreateOrder } from "@orderstream/domain";
import type { BulkError, BulkResponse, CreateOrderRequest } from "@orderstream/proto";
import type { Logger } from "pino";
import { ApiError, toServiceError } from "./api-error.js";
import type { ApiStats } from "./api-stats.js";
import type { OrderQueue } from "./order-queue.js";

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
    let batch: ValidOrderRequest[] = [];
    // The jobs of the previous batch are queued while the next batch is read and stored.
    let queueing: Promise<unknown> = Promise.resolve();

    const writeBatch = async (): Promise<void> => {
      if (batch.length === 0) return;
      const reqs = batch;
      batch = [];
      const orders = await deps.store.createMany(reqs);
      const ids = orders.map((o) => o.id);
      response.createdCount += ids.length;
      response.orderIds.push(...ids);
      deps.stats.ordersCreated += ids.length;
      await queueing;
      queueing = deps.queue.enqueue(ids);
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
      await queueing;
      return response;
    };

    run().then(
      (res) => callback(null, res),
      async (err: unknown) => {
        await queueing;
        if (call.cancelled) {
          deps.log.info({ rpc: "BulkCreateOrders", created: response.createdCount }, "bulk stream cancelled by the client");
          return;
        }
        callback(toServiceError(err, deps.log, { rpc: "BulkCreateOrders", created: response.createdCount }));
      },
    );
  };
}
