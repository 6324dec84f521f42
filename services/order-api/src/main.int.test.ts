import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceError, credentials, status } from "@grpc/grpc-js";
import { OrderServiceClient, OrderStatus, health } from "@orderstream/proto";
import { type ServiceProcess, type TestRedis, startRedis, startService } from "@orderstream/testkit";
import { createOrder, orderReq, subscribed } from "./testing/api-harness.js";

const ENTRY = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("order-api process (dist/main.js)", () => {
  let svc: ServiceProcess | undefined;
  afterAll(async () => {
    await svc?.stop("SIGKILL");
  });

  it("logs ready with its port, serves, and on SIGTERM ends streams and exits 0", async () => {
    svc = startService(ENTRY, { REDIS_URL: redis.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: "0", METRICS_PORT: "0", SHUTDOWN_TIMEOUT_MS: "5000" }, "order-api");
    const line = await svc.waitFor(/\{[^\n]*"msg":"ready"[^\n]*\}/);
    const port = (JSON.parse(line) as { port: number }).port;
    expect(port).toBeGreaterThan(0);
    const address = `127.0.0.1:${port}`;
    const client = new OrderServiceClient(address, credentials.createInsecure());
    const hc = new health.HealthClient(address, credentials.createInsecure());
    try {
      expect((await createOrder(client, orderReq("proc-user"))).status).toBe(OrderStatus.PENDING);

      const sub = client.subscribeOrders({ statuses: [], userId: "", sinceOffset: "" });
      sub.on("data", () => undefined);
      const subEnd = new Promise<ServiceError>((resolve) => sub.on("error", resolve));
      await subscribed(sub);
      const bidi = client.processOrders();
      bidi.on("data", () => undefined);
      const bidiEnd = new Promise<ServiceError>((resolve) => bidi.on("error", resolve));
      const watch = hc.watch({ service: "" });
      const watched: number[] = [];
      watch.on("data", (r: health.HealthCheckResponse) => watched.push(r.status));
      watch.on("error", () => undefined);
      const watchEnd = new Promise<void>((resolve) => watch.on("end", resolve));
      await new Promise((resolve) => watch.once("data", resolve));

      expect(await svc.stop("SIGTERM", 8000)).toBe(0);
      expect((await subEnd).code).toBe(status.UNAVAILABLE);
      expect((await bidiEnd).code).toBe(status.UNAVAILABLE);
      await watchEnd;
      expect(watched).toEqual([health.HealthCheckResponse_ServingStatus.SERVING, health.HealthCheckResponse_ServingStatus.NOT_SERVING]);
      expect(svc.output()).toContain('"msg":"order-api stopped"');
    } finally {
      client.close();
      hc.close();
    }
  });

  it("a subscriber that never reads does not hold shutdown past SHUTDOWN_TIMEOUT_MS", async () => {
    const env = {
      REDIS_URL: redis.url,
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      METRICS_PORT: "0",
      SHUTDOWN_TIMEOUT_MS: "1500",
      SUBSCRIBE_MAX_PENDING: "100000",
    };
    const stuck = startService(ENTRY, env, "order-api-stuck");
    try {
      const port = (JSON.parse(await stuck.waitFor(/\{[^\n]*"msg":"ready"[^\n]*\}/)) as { port: number }).port;
      const client = new OrderServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
      try {
        const sub = client.subscribeOrders({ statuses: [], userId: "stuck", sinceOffset: "" });
        sub.on("data", () => undefined);
        sub.on("error", () => undefined);
        await subscribed(sub);
        sub.pause();
        const big = Array.from({ length: 20 }, (_, i) => ({ productId: `p${i}-${"x".repeat(120)}`, quantity: 1, price: 1 }));
        for (let i = 0; i < 10; i++) {
          await Promise.all(Array.from({ length: 30 }, () => createOrder(client, orderReq("stuck", big))));
        }
        // Killed (exit code null) if it overran the deadline by the 5 s margin.
        expect(await stuck.stop("SIGTERM", 5000)).toBe(0);
        expect(stuck.output()).toContain("forcing shutdown");
      } finally {
        client.close();
      }
    } finally {
      await stuck.stop("SIGKILL");
    }
  });

  it("refuses to start on a bad value, naming the variable", async () => {
    const bad = startService(ENTRY, { REDIS_URL: redis.url, GRPC_PORT: "not-a-port" }, "order-api-bad");
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain("GRPC_PORT");
  });
});
