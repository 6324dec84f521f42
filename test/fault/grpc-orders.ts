import { once } from "node:events";
import { Metadata, credentials } from "@grpc/grpc-js";
import { type BulkResponse, type CreateOrderRequest, type Order, OrderServiceClient } from "@orderstream/proto";

/** A gRPC client of order-api on 127.0.0.1:`port`. */
export function orderClient(port: number): OrderServiceClient {
  return new OrderServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** A valid CreateOrder request for `userId`. */
export function orderRequest(userId: string, n = 1): CreateOrderRequest {
  return { userId, items: [{ productId: `p${n % 97}`, quantity: 1 + (n % 3), price: 4.5 }] };
}

/** CreateOrder as a promise (deadline `deadlineMs`). */
export function createOrder(client: OrderServiceClient, req: CreateOrderRequest, deadlineMs = 5000): Promise<Order> {
  return new Promise((resolve, reject) => {
    client.createOrder(req, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * Streams `count` orders through BulkCreateOrders with flow control; `onProgress(sent)` is awaited
 * after each batch of writes. Settles with the response or the call's error (it never throws).
 */
export async function bulkCreate(
  client: OrderServiceClient,
  count: number,
  users: string[],
  onProgress: (sent: number) => Promise<void> | void,
): Promise<{ response?: BulkResponse; error?: Error; sent: number }> {
  let settle: (r: { response?: BulkResponse; error?: Error }) => void = () => undefined;
  const done = new Promise<{ response?: BulkResponse; error?: Error }>((r) => (settle = r));
  const call = client.bulkCreateOrders((err, res) => settle(err ? { error: err } : { response: res }));
  let failed = false;
  call.on("error", () => {
    failed = true;
  });
  done.then(() => (failed = true), () => undefined);
  let sent = 0;
  for (; sent < count && !failed; sent++) {
    if (!call.write(orderRequest(users[sent % users.length] as string, sent))) {
      await Promise.race([once(call, "drain"), done]);
    }
    if (sent % 100 === 99) await onProgress(sent + 1);
  }
  if (!failed) call.end();
  const r = await done;
  return { ...r, sent };
}
