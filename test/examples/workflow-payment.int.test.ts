// examples/workflow-payment: a workflow whose steps call a fake payment and shipping service (on
// loopback), loaded by a real processor through PROCESSOR_WORKFLOW, orders through real gRPC.
// Failures are injected by user id (see fake-services.mjs): a charge that times out once, one that
// answers 500 once, a permanent decline, and a slow charge during which the processor is SIGKILLed.
import { join, resolve } from "node:path";
import { Partitioning, readChannelHistory } from "@orderstream/bus";
import { type OrderServiceClient, OrderStatus } from "@orderstream/proto";
import { type LocalCluster, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chargesOf, startFakeServices } from "../../examples/workflow-payment/fake-services.mjs";
import { createOrder, orderClient, orderRequest } from "../fault/grpc-orders.js";

const root = resolve(import.meta.dirname, "../..");
let fake: Awaited<ReturnType<typeof startFakeServices>>;
let cluster: LocalCluster;
let grpc: OrderServiceClient;

beforeAll(async () => {
  fake = await startFakeServices();
  cluster = await startLocalCluster({
    edges: 0,
    processors: 1,
    processorEnv: {
      PROCESSOR_WORKFLOW: join(root, "examples/workflow-payment/workflow.mjs"),
      WORKFLOW_PAYMENT_URL: fake.url,
      // Short locks: a killed processor's job is taken over within seconds.
      JOB_LOCK_MS: "1500",
      STALLED_INTERVAL_MS: "500",
    },
  });
  grpc = orderClient(cluster.apiPort);
}, 120_000);

afterAll(async () => {
  grpc?.close();
  await cluster?.stop();
  await fake?.close();
});

/** An order's events on its user's channel: statuses, and the note / reason each carried. */
async function eventsOf(userId: string, orderId: string) {
  const frames = await readChannelHistory(cluster.redisClient(), `orders.user.${userId}`, new Partitioning());
  return frames
    .map((f) => JSON.parse(f) as { data: { id: string; status: string; note?: string; statusReason?: string } })
    .filter((f) => f.data.id === orderId)
    .map((f) => f.data);
}

const statuses = async (userId: string, orderId: string) => (await eventsOf(userId, orderId)).map((e) => e.status);
const LIFECYCLE = ["PENDING", "CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"];

/** ProcessOrders with one action; resolves with its result. */
function act(orderId: string, action: string): Promise<{ status: OrderStatus; errorCode: string; message: string }> {
  return new Promise((res, rej) => {
    const call = grpc.processOrders();
    call.on("data", (r) => {
      res(r);
      call.end();
    });
    call.on("error", rej);
    call.write({ orderId, action, payload: Buffer.alloc(0) });
  });
}

describe("examples/workflow-payment", () => {
  it("delivers through a timeout and a 500 with one charge each, and carries the steps' notes on their events", async () => {
    const ok = await createOrder(grpc, orderRequest("ok-1"));
    const slowOnce = await createOrder(grpc, orderRequest("timeout-1"));
    const flaky = await createOrder(grpc, orderRequest("flaky-1"));
    for (const [user, o] of [
      ["ok-1", ok],
      ["timeout-1", slowOnce],
      ["flaky-1", flaky],
    ] as const) {
      await waitUntil(async () => (await statuses(user, o.id)).length === 5, `${user} delivered`, 30_000, 100);
      expect(await statuses(user, o.id)).toEqual(LIFECYCLE);
      expect(chargesOf(fake.state, o.id)).toHaveLength(1);
      const events = await eventsOf(user, o.id);
      expect(events[1]?.note).toMatch(/^payment captured: ch_\d+$/);
      expect(events[3]?.note).toMatch(/^tracking number TRK\d+$/);
      expect(events[4]?.note).toBeUndefined(); // a note travels with its own event only
    }
    // The timeout and the 500 were retried with the same idempotency key.
    const keys = (orderId: string) =>
      fake.state.requests.filter((r: { orderId: string; path: string }) => r.orderId === orderId && r.path === "/charges");
    expect(keys(slowOnce.id).length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys(slowOnce.id).map((r: { key: string }) => r.key)).size).toBe(1);
    expect(keys(flaky.id).length).toBe(2);
  }, 60_000);

  it("a permanent decline ends FAILED with its reason and an event; retry after the fix delivers, charged once", async () => {
    const o = await createOrder(grpc, orderRequest("decline-1"));
    await waitUntil(async () => (await statuses("decline-1", o.id)).includes("FAILED"), "FAILED", 30_000, 100);
    const failed = (await eventsOf("decline-1", o.id)).at(-1);
    expect(failed).toMatchObject({ status: "FAILED" });
    expect(failed?.statusReason).toMatch(/^PENDING step: \/charges: 402 .*card declined/);
    expect(chargesOf(fake.state, o.id)).toHaveLength(0);
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort()}/metrics`)).text();
    expect(metrics).toMatch(/orderstream_processor_orders_failed_total\{step="PENDING",reason="permanent"\} 1/);
    // An unknown action is refused; retry of a FAILED order takes it back to PENDING.
    await fetch(`${fake.url}/fix`, { method: "POST", body: "{}" });
    const retried = await act(o.id, "retry");
    expect(retried.errorCode).toBe("");
    expect(retried.status).toBe(OrderStatus.PENDING);
    await waitUntil(async () => (await statuses("decline-1", o.id)).at(-1) === "DELIVERED", "delivered after retry", 30_000, 100);
    expect(await statuses("decline-1", o.id)).toEqual(["PENDING", "FAILED", ...LIFECYCLE]);
    expect(chargesOf(fake.state, o.id)).toHaveLength(1);
    // A retry of an order that is not FAILED is an invalid transition.
    expect((await act(o.id, "retry")).errorCode).toBe("invalid_transition");
  }, 60_000);

  it("a processor SIGKILLed mid-charge: the next one runs the step again with the same key, one charge", async () => {
    const o = await createOrder(grpc, orderRequest("slow-1"));
    await waitUntil(() => fake.state.requests.some((r: { orderId: string }) => r.orderId === o.id), "the charge in flight", 15_000, 20);
    const victim = cluster.processors[0];
    victim?.proc.kill("SIGKILL");
    expect(await victim?.exited).toBe(null);
    await cluster.addProcessor();
    await waitUntil(async () => (await statuses("slow-1", o.id)).at(-1) === "DELIVERED", "delivered after the kill", 40_000, 100).catch(
      async (err: Error) => {
        throw new Error(
          `${err.message}: ${JSON.stringify(await statuses("slow-1", o.id))}\n${cluster.processors.at(-1)?.output().slice(-3000)}`,
        );
      },
    );
    expect(await statuses("slow-1", o.id)).toEqual(LIFECYCLE);
    const requests = fake.state.requests.filter((r: { orderId: string; path: string }) => r.orderId === o.id && r.path === "/charges");
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(requests.map((r: { key: string }) => r.key)).size).toBe(1);
    expect(chargesOf(fake.state, o.id)).toHaveLength(1);
  }, 90_000);
});

/** The first live processor's health port, read from its ready line. */
function healthPort(): number {
  const out = cluster.processors.map((p) => p.output()).join("\n");
  return Number(/"healthPort":(\d+)/.exec(out)?.[1]);
}
