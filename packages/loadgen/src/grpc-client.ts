import { credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { type CreateOrderRequest, type Order, OrderServiceClient } from "@orderstream/proto";
import { poolUserId } from "./socket-plan.js";

/**
 * A gRPC client for order-api at `address` (plaintext, as on loopback). `ownConnection` gives it
 * its own HTTP/2 connection instead of the process-wide shared one.
 */
export function makeOrderClient(address: string, ownConnection = false): OrderServiceClient {
  return new OrderServiceClient(address, credentials.createInsecure(), {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    // grpc-js keeps every message of a client stream for a possible retry and clears that buffer
    // in O(n) per message: quadratic on a long BulkCreateOrders stream. A load tool never retries.
    "grpc.enable_retries": 0,
    ...(ownConnection ? { "grpc.use_local_subchannel_pool": 1 } : {}),
  });
}

/** Metadata carrying `authorization: Bearer <token>` when a token is known. */
export function authMetadata(token: string | undefined): Metadata {
  const md = new Metadata();
  if (token !== undefined) md.set("authorization", `Bearer ${token}`);
  return md;
}

/** The `n`-th synthetic order: user from the pool of `users`, one to three line items. */
export function syntheticOrder(n: number, users: number): CreateOrderRequest {
  const items = [];
  const lines = 1 + (n % 3);
  for (let i = 0; i < lines; i++) {
    items.push({ productId: `sku-${(n * 7 + i) % 1000}`, quantity: 1 + ((n + i) % 5), price: 5 + ((n * 13 + i) % 100) / 4 });
  }
  return { userId: poolUserId(n % Math.max(1, users)), items };
}

/** The gRPC status name of an error (`UNAVAILABLE`, …), or `UNKNOWN`. */
export function grpcCodeName(err: unknown): string {
  const code = (err as Partial<ServiceError>).code;
  return typeof code === "number" ? (status[code] ?? `CODE_${code}`) : "UNKNOWN";
}

/** CreateOrder as a promise, with a per-call deadline. */
export function createOrder(
  client: OrderServiceClient,
  req: CreateOrderRequest,
  md: Metadata,
  timeoutMs: number,
): Promise<Order> {
  return new Promise((resolve, reject) => {
    client.createOrder(req, md, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
