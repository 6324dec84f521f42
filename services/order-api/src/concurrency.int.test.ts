import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus } from "@orderstream/proto";
import { waitUntil } from "@orderstream/testkit";
import {
  type ApiHarness,
  createOrder,
  historyFrames,
  orderReq,
  jobCount,
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

  describe("concurrency", () => {
    it("20 concurrent CreateOrder calls with one idempotency key create exactly one order", async () => {
      const key = `key-${Date.now()}`;
      const orders = await Promise.all(Array.from({ length: 20 }, () => createOrder(h.client, orderReq("idem-user"), { key })));
      const ids = new Set(orders.map((o) => o.id));
      expect(ids.size).toBe(1);
      const [id] = [...ids] as [string];
      // The reply comes once the order and its event are stored (once), in one script.
      const created = (await historyFrames(h.r, "orders.created")).filter((f) => f.data.userId === "idem-user");
      expect(created.map((f) => f.data.id)).toEqual([id]);
      const job = await waitUntil(() => jobOfOrder(h, id), "the order's job");
      expect(job?.data).toEqual({ orderIds: [id] });
      expect(await jobCount(h, "waiting", "delayed", "active", "prioritized")).toBe(1);
      // A retry later with the same key still returns the same order; another key makes a new one.
      expect((await createOrder(h.client, orderReq("idem-user"), { key })).id).toBe(id);
      expect((await createOrder(h.client, orderReq("idem-user"), { key: `${key}-2` })).id).not.toBe(id);
    });

    it("an idempotency key is the user's own: the same key from two users makes two orders, each user's own", async () => {
      const key = `shared-key-${Date.now()}`;
      const alice = await createOrder(h.client, orderReq("idem-alice"), { key });
      const bob = await createOrder(h.client, orderReq("idem-bob"), { key });
      expect(bob.id).not.toBe(alice.id);
      expect(bob.userId).toBe("idem-bob");
      expect(alice.userId).toBe("idem-alice");
      // Each user's retry still finds its own order.
      expect((await createOrder(h.client, orderReq("idem-alice"), { key })).id).toBe(alice.id);
      expect((await createOrder(h.client, orderReq("idem-bob"), { key })).id).toBe(bob.id);
    });

    it("25 ship + 25 cancel racing on one PROCESSING order over 5 streams: exactly one wins", async () => {
      const order = await createOrder(h.client, orderReq("cas-user"));
      await processActions(h.client, [
        { orderId: order.id, action: "confirm" },
        { orderId: order.id, action: "process" },
      ]);
      // SHIPPED and CANCELLED are each a dead end for the other action, so only one can ever apply.
      const streams = Array.from({ length: 5 }, (_, s) =>
        processActions(
          h.client,
          Array.from({ length: 10 }, (_, i) => ({ orderId: order.id, action: (s * 10 + i) % 2 === 0 ? "cancel" : "ship" })),
        ),
      );
      const results = (await Promise.all(streams)).flat();
      expect(results).toHaveLength(50);
      const winners = results.filter((r) => r.errorCode === "");
      expect(winners).toHaveLength(1);
      const final = winners[0]?.status;
      expect([OrderStatus.SHIPPED, OrderStatus.CANCELLED]).toContain(final);
      const losers = results.filter((r) => r.errorCode !== "");
      expect(losers.every((r) => r.errorCode === "invalid_transition" && r.status === final)).toBe(true);
      const events = (await historyFrames(h.r, "orders.status")).filter((f) => f.data.id === order.id);
      expect(events.map((e) => e.data.status)).toEqual(["CONFIRMED", "PROCESSING", OrderStatus[final as OrderStatus]]);
    });

    it("50 concurrent identical confirms: exactly one succeeds, one order.status event", async () => {
      const order = await createOrder(h.client, orderReq("cas-user-2"));
      const results = (
        await Promise.all(
          Array.from({ length: 5 }, () =>
            processActions(h.client, Array.from({ length: 10 }, () => ({ orderId: order.id, action: "confirm" }))),
          ),
        )
      ).flat();
      expect(results.filter((r) => r.errorCode === "")).toHaveLength(1);
      expect(results.filter((r) => r.errorCode === "invalid_transition")).toHaveLength(49);
      const events = (await historyFrames(h.r, "orders.status")).filter((f) => f.data.id === order.id);
      expect(events).toHaveLength(1);
    });
  });
});
