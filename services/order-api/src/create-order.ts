import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { OrderStore } from "@orderstream/bus";
import { validateCreateOrder } from "@orderstream/domain";
import type { CreateOrderRequest, Order } from "@orderstream/proto";
import type { Logger } from "pino";
import { ApiError, toServiceError } from "./api-error.js";
import type { OrderApiMetrics } from "./api-metrics.js";
import type { ApiStats } from "./api-stats.js";
import { type CallAuth, requireOwnOrders } from "./call-auth.js";

/** The metadata entry that makes CreateOrder safe to retry. */
export const IDEMPOTENCY_HEADER = "idempotency-key";
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** What CreateOrder needs. */
export interface CreateOrderDeps {
  store: OrderStore;
  stats: ApiStats;
  metrics: Pick<OrderApiMetrics, "ordersCreated">;
  log: Logger;
  auth: CallAuth;
}

function idempotencyKeyOf(call: ServerUnaryCall<CreateOrderRequest, Order>): string | undefined {
  const values = call.metadata.get(IDEMPOTENCY_HEADER);
  if (values.length === 0) return undefined;
  const key = String(values[0]);
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw new ApiError(status.INVALID_ARGUMENT, `${IDEMPOTENCY_HEADER}: must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  return key;
}

/**
 * CreateOrder: validates, stores the order PENDING with its `order.created` event and its due
 * entry in one script (only for the caller's own user_id unless it is an admin), and answers;
 * concurrent calls share one script per partition. A key the user sent before returns its order.
 */
export function createOrder(deps: CreateOrderDeps) {
  return (call: ServerUnaryCall<CreateOrderRequest, Order>, callback: sendUnaryData<Order>): void => {
    const run = async (): Promise<Order> => {
      const who = await deps.auth.caller(call.metadata);
      const valid = validateCreateOrder(call.request);
      requireOwnOrders(who, valid.userId);
      const key = idempotencyKeyOf(call);
      const { order, created } = await deps.store.create(valid, key);
      // Stored with its due entry: the store hands the batch to the order queue, which adds its
      // job in the background (a job lost before that is the due sweep's).
      if (created) {
        deps.stats.ordersCreated++;
        deps.metrics.ordersCreated.inc();
      }
      return order;
    };
    run().then(
      (order) => callback(null, order),
      (err: unknown) => callback(toServiceError(err, deps.log, { rpc: "CreateOrder", userId: call.request.userId })),
    );
  };
}
