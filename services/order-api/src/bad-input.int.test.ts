import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, type ServiceError, credentials, status } from "@grpc/grpc-js";
import { pino } from "pino";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { type BulkResponse, type CreateOrderRequest, type LineItem, Order, OrderServiceClient, OrderStatus } from "@orderstream/proto";
import { startOrderApi } from "./server.js";
import { type ApiHarness, createOrder, grpcError, orderReq, startHarness, storedOrder } from "./testing/api-harness.js";

const MAX_BULK = 10_000;
let h: ApiHarness;
beforeAll(async () => {
  h = await startHarness({ maxBulkOrders: MAX_BULK, bulkBatchSize: 500 });
});
afterAll(async () => {
  await h?.close();
});

const item = (over: Partial<LineItem> = {}): LineItem => ({ productId: "p1", quantity: 1, price: 1, ...over });

async function stillServing(): Promise<void> {
  expect((await createOrder(h.client, orderReq("after-bad-input"))).status).toBe(OrderStatus.PENDING);
}

function bulk(reqs: Iterable<CreateOrderRequest>, client: OrderServiceClient = h.client): Promise<BulkResponse> {
  return new Promise((resolve, reject) => {
    const call = client.bulkCreateOrders({ deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res)));
    for (const r of reqs) call.write(r);
    call.end();
  });
}

/** CreateOrder with hand-made request bytes, as a client with a different idea of the schema sends. */
function rawCreateOrder(bytes: Uint8Array): Promise<Order> {
  return new Promise((resolve, reject) => {
    h.client.makeUnaryRequest(
      "/order.OrderService/CreateOrder",
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => Order.decode(b),
      bytes,
      new Metadata(),
      { deadline: Date.now() + 5000 },
      (err: ServiceError | null, res?: Order) => (err ? reject(err) : resolve(res as Order)),
    );
  });
}

describe("bad input", () => {
  it.each<[string, CreateOrderRequest, string]>([
    ["empty user_id", orderReq(""), "user_id"],
    ["129-character user_id", orderReq("u".repeat(129)), "user_id"],
    ["no items", orderReq("u", []), "items"],
    ["1001 items", orderReq("u", Array.from({ length: 1001 }, () => item())), "items"],
    ["quantity 0", orderReq("u", [item({ quantity: 0 })]), "items[0].quantity"],
    ["quantity 1000001", orderReq("u", [item(), item({ quantity: 1_000_001 })]), "items[1].quantity"],
    ["price -1", orderReq("u", [item({ price: -1 })]), "items[0].price"],
    ["price NaN", orderReq("u", [item({ price: Number.NaN })]), "items[0].price"],
    ["price Infinity", orderReq("u", [item({ price: Number.POSITIVE_INFINITY })]), "items[0].price"],
    ["price 1e9+1", orderReq("u", [item({ price: 1e9 + 1 })]), "items[0].price"],
    ["empty product_id", orderReq("u", [item({ productId: "" })]), "items[0].product_id"],
  ])("%s is INVALID_ARGUMENT naming the field", async (_name, req, field) => {
    const err = await grpcError(createOrder(h.client, req));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain(field);
    await stillServing();
  });

  it("quantity 1.5 never becomes an order: the int32 field cannot carry it, and a double on the wire is rejected", async () => {
    // The generated client refuses to encode it at all.
    const local = await grpcError(createOrder(h.client, orderReq("u", [item({ quantity: 1.5 })])));
    expect(local.code).not.toBe(status.OK);
    // A client whose schema says `double quantity` sends 1.5 as a fixed64: the server ignores the
    // wrong wire type, sees no quantity, and names the field.
    const w = new BinaryWriter();
    w.uint32(10).string("u");
    const li = w.uint32(18).fork();
    li.uint32(10).string("p1");
    li.uint32(17).double(1.5);
    li.uint32(25).double(2);
    li.join();
    const err = await grpcError(rawCreateOrder(w.finish()));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain("items[0].quantity");
    await stillServing();
  });

  it("a too long idempotency-key is INVALID_ARGUMENT naming it", async () => {
    const err = await grpcError(createOrder(h.client, orderReq("u"), { key: "k".repeat(300) }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain("idempotency-key");
    await stillServing();
  });

  it("a 5 MB message is RESOURCE_EXHAUSTED", async () => {
    const err = await grpcError(createOrder(h.client, orderReq("u", [item({ productId: "x".repeat(5 * 1024 * 1024) })])));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    await stillServing();
  });

  it("a bulk stream of 10,000 with invalid entries in the middle reports exactly their indices", async () => {
    const bad = new Map<number, CreateOrderRequest>([
      [4999, orderReq("")],
      [5000, orderReq("u", [item({ quantity: 0 })])],
      [7777, orderReq("u", [item({ price: -1 })])],
    ]);
    const reqs = Array.from({ length: MAX_BULK }, (_, i) => bad.get(i) ?? orderReq(`bulk-${i % 10}`));
    const res = await bulk(reqs);
    expect(res.errors.map((e) => e.index)).toEqual([4999, 5000, 7777]);
    expect(res.errors.map((e) => e.message.split(":")[0])).toEqual(["user_id", "items[0].quantity", "items[0].price"]);
    expect(res.createdCount).toBe(MAX_BULK - 3);
    expect(new Set(res.orderIds).size).toBe(MAX_BULK - 3);
    const stored = await Promise.all(res.orderIds.slice(0, 100).map((id) => storedOrder(h, id)));
    expect(stored.filter((o) => o?.userId.startsWith("bulk-"))).toHaveLength(100);
    await stillServing();
  });

  it("a bulk stream the client cancels midway does not disturb the server", async () => {
    const err = await grpcError(
      new Promise((resolve, reject) => {
        const call = h.client.bulkCreateOrders((e, r) => (e ? reject(e) : resolve(r)));
        for (let i = 0; i < 1500; i++) call.write(orderReq("cancelled-bulk"));
        setTimeout(() => call.cancel(), 50);
      }),
    );
    expect(err.code).toBe(status.CANCELLED);
    await stillServing();
  });

  it("a bulk stream over MAX_BULK_ORDERS ends RESOURCE_EXHAUSTED", async () => {
    // A second order-api on the same Redis with a small limit, so the test writes little.
    const small = await startOrderApi({ ...h.config, maxBulkOrders: 100, bulkBatchSize: 30 }, pino({ level: "silent" }));
    const client = new OrderServiceClient(`127.0.0.1:${small.port}`, credentials.createInsecure());
    try {
      const within = await bulk(Array.from({ length: 100 }, () => orderReq("at-limit")), client);
      expect(within.createdCount).toBe(100);
      const err = await grpcError(bulk(Array.from({ length: 101 }, () => orderReq("too-many")), client));
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(err.details).toContain("MAX_BULK_ORDERS (100)");
      expect((await createOrder(client, orderReq("after-limit"))).status).toBe(OrderStatus.PENDING);
    } finally {
      client.close();
      await small.stop(2000);
    }
    await stillServing();
  });
});
