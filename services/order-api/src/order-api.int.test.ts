import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { type BulkResponse, type CreateOrderRequest, OrderStatus } from "@orderstream/proto";
import { Partitioning, dueCount } from "@orderstream/bus";
import { waitUntil } from "@orderstream/testkit";
import {
  type ApiHarness,
  createOrder,
  grpcError,
  historyFrames,
  orderReq,
  jobOfOrder,
  processActions,
  startHarness,
} from "./testing/api-harness.js";

describe.each(["single", "cluster"] as const)("on %s Redis", (topology) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startHarness({}, topology);
  });
  afterAll(async () => {
    await h?.close();
  });

  function bulk(reqs: CreateOrderRequest[]): Promise<BulkResponse> {
    return new Promise((resolve, reject) => {
      const call = h.client.bulkCreateOrders((err, res) => (err ? reject(err) : resolve(res)));
      for (const r of reqs) call.write(r);
      call.end();
    });
  }

  describe("order-api end to end", () => {
    it("CreateOrder stores PENDING with a computed total, emits order.created and queues one job", async () => {
      const order = await createOrder(h.client, orderReq("alice", [
        { productId: "a", quantity: 3, price: 0.1 },
        { productId: "b", quantity: 1, price: 0.2 },
      ]));
      expect(order.id).toMatch(/[0-9a-f-]{36}/);
      expect(order.userId).toBe("alice");
      expect(order.status).toBe(OrderStatus.PENDING);
      expect(order.total).toBe(0.5);
      expect(order.createdAt).toBeInstanceOf(Date);

      // The reply comes once the order and its event are stored, in one script.
      const created = (await historyFrames(h.r, "orders.created")).filter((f) => f.data.id === order.id);
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ type: "order.created", channel: "orders.created", data: { status: "PENDING", total: 0.5 } });
      const mine = (await historyFrames(h.r, "orders.user.alice")).filter((f) => f.data.id === order.id);
      expect(mine.map((f) => f.type)).toEqual(["order.created"]);

      // The job is added in the background right after the reply; the due entry was written with the order.
      const job = await waitUntil(() => jobOfOrder(h, order.id), "the order's job");
      expect(job?.data.orderIds).toContain(order.id);
      expect(await dueCount(h.r, new Partitioning(h.config.partitions))).toBeGreaterThanOrEqual(1);
    });

    it("ProcessOrders drives confirm, process, ship, deliver with exactly one order.status event each", async () => {
      const order = await createOrder(h.client, orderReq("bob"));
      const results = await processActions(
        h.client,
        ["confirm", "process", "ship", "deliver"].map((action) => ({ orderId: order.id, action })),
      );
      expect(results.map((r) => [r.errorCode, r.status])).toEqual([
        ["", OrderStatus.CONFIRMED],
        ["", OrderStatus.PROCESSING],
        ["", OrderStatus.SHIPPED],
        ["", OrderStatus.DELIVERED],
      ]);
      const events = (await historyFrames(h.r, "orders.status")).filter((f) => f.data.id === order.id);
      expect(events.map((e) => e.data.status)).toEqual(["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"]);
      expect(events.every((e) => e.type === "order.status")).toBe(true);
    });

    it("ProcessOrders answers every action, errors included, and the stream goes on", async () => {
      const order = await createOrder(h.client, orderReq("carol"));
      const results = await processActions(h.client, [
        { orderId: "ord-3", action: "process" },
        { orderId: order.id, action: "ship" },
        { orderId: order.id, action: "teleport" },
        { orderId: "", action: "confirm" },
        { orderId: order.id, action: "confirm" },
        { orderId: "ord-4", action: "cancel" },
        { orderId: order.id, action: "CANCEL" },
        { orderId: order.id, action: "cancel" },
      ]);
      expect(results.map((r) => [r.orderId, r.errorCode])).toEqual([
        ["ord-3", "not_found"],
        [order.id, "invalid_transition"],
        [order.id, "invalid_argument"],
        ["", "invalid_argument"],
        [order.id, ""],
        ["ord-4", "not_found"],
        [order.id, ""],
        [order.id, "invalid_transition"],
      ]);
      expect(results[1]?.status).toBe(OrderStatus.PENDING);
      expect(results[2]?.message).toContain("action");
      expect(results[3]?.message).toContain("order_id");
      expect(results[7]?.status).toBe(OrderStatus.CANCELLED);
    });

    it("BulkCreateOrders creates the valid requests, reports invalid ones by index, queues their jobs", async () => {
      const reqs = Array.from({ length: 1200 }, (_, i) => orderReq(`bulk-${i % 7}`));
      reqs[5] = orderReq("", reqs[5]?.items);
      reqs[777] = orderReq("x", []);
      const res = await bulk(reqs);
      expect(res.createdCount).toBe(1198);
      expect(res.orderIds).toHaveLength(1198);
      expect(new Set(res.orderIds).size).toBe(1198);
      expect(res.errors.map((e) => e.index)).toEqual([5, 777]);
      expect(res.errors[0]?.message).toContain("user_id");
      expect(res.errors[1]?.message).toContain("items");
      await waitUntil(() => jobOfOrder(h, res.orderIds[1197] as string), "last bulk job");
      expect((await jobOfOrder(h, res.orderIds[0] as string))?.data.orderIds).toContain(res.orderIds[0]);
    });

    it("SubscribeOrders streams live events with a resume token", async () => {
      const stream = h.client.subscribeOrders({ statuses: [], userId: "dave", sinceOffset: "" });
      const got: { status: OrderStatus; offset: string }[] = [];
      stream.on("data", (o: { status: OrderStatus; eventOffset: string }) => got.push({ status: o.status, offset: o.eventOffset }));
      stream.on("error", () => undefined);
      await new Promise((resolve) => stream.once("metadata", resolve));
      await createOrder(h.client, orderReq("dave"));
      const order = await createOrder(h.client, orderReq("dave"));
      await processActions(h.client, [{ orderId: order.id, action: "confirm" }]);
      await waitUntil(() => got.length === 3, "three events");
      stream.cancel();
      expect(got.map((g) => g.status)).toEqual([OrderStatus.PENDING, OrderStatus.PENDING, OrderStatus.CONFIRMED]);
      expect(got.every((g) => /^[A-Za-z0-9]+:\d+$/.test(g.offset))).toBe(true);
      const seqs = got.map((g) => Number(g.offset.split(":")[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });

    it("the server keeps serving after a rejected call", async () => {
      const err = await grpcError(createOrder(h.client, orderReq("")));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect((await createOrder(h.client, orderReq("eve"))).status).toBe(OrderStatus.PENDING);
    });
  });
});
