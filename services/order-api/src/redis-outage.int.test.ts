import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceError, credentials, status } from "@grpc/grpc-js";
import { type Order, OrderStatus, health } from "@orderstream/proto";
import { waitUntil } from "@orderstream/testkit";
import {
  type ApiHarness,
  createOrder,
  grpcError,
  orderReq,
  processActions,
  startHarness,
  subscribed,
} from "./testing/api-harness.js";

let h: ApiHarness;
let healthClient: health.HealthClient;
beforeAll(async () => {
  h = await startHarness();
  healthClient = new health.HealthClient(h.address, credentials.createInsecure());
});
afterAll(async () => {
  healthClient?.close();
  await h?.close();
});

function check(): Promise<health.HealthCheckResponse_ServingStatus> {
  return new Promise((resolve, reject) =>
    healthClient.check({ service: "" }, (err, res) => (err ? reject(err) : resolve(res.status))),
  );
}

describe("Redis outage", () => {
  it("answers UNAVAILABLE within 1 s while Redis is down, and serves again once it is back", async () => {
    const existing = h.client.subscribeOrders({ statuses: [], userId: "outage", sinceOffset: "" });
    const seen: Order[] = [];
    existing.on("data", (o: Order) => seen.push(o));
    existing.on("error", () => undefined);
    await subscribed(existing);
    expect((await createOrder(h.client, orderReq("outage"))).status).toBe(OrderStatus.PENDING);
    await waitUntil(() => seen.length === 1, "event before the outage");

    await h.redis.stop();
    await waitUntil(async () => (await check()) === health.HealthCheckResponse_ServingStatus.NOT_SERVING, "NOT_SERVING");
    // The deadline makes a hanging call fail as DEADLINE_EXCEEDED, so UNAVAILABLE proves < 1 s.
    for (let i = 0; i < 3; i++) {
      const err = await grpcError(createOrder(h.client, orderReq("outage"), { deadlineMs: 1000 }));
      expect(err.code).toBe(status.UNAVAILABLE);
      expect(err.details).not.toMatch(/ECONNREFUSED|Stream isn't writeable/);
    }
    const results = await processActions(h.client, [
      { orderId: "any", action: "confirm" },
      { orderId: "", action: "confirm" },
      { orderId: "other", action: "ship" },
    ]);
    expect(results.map((r) => r.errorCode)).toEqual(["unavailable", "invalid_argument", "unavailable"]);
    const subErr = await new Promise<ServiceError>((resolve) => {
      const s = h.client.subscribeOrders({ statuses: [], userId: "", sinceOffset: "" }, { deadline: Date.now() + 1000 });
      s.on("error", resolve);
      s.on("data", () => undefined);
    });
    expect(subErr.code).toBe(status.UNAVAILABLE);

    await h.redis.start();
    const order = (await waitUntil(
      () => createOrder(h.client, orderReq("outage"), { deadlineMs: 1000 }).catch(() => undefined),
      "CreateOrder after Redis is back",
      8000,
      100,
    )) as Order;
    expect(order.status).toBe(OrderStatus.PENDING);
    expect(await check()).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    const [r] = await processActions(h.client, [{ orderId: order.id, action: "confirm" }]);
    expect(r?.errorCode).toBe("");
    // The stream opened before the outage is still live and gets the new events.
    await waitUntil(() => seen.some((o) => o.id === order.id && o.status === OrderStatus.CONFIRMED), "event after the outage");
    existing.cancel();
  });
});
