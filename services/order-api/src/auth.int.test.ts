import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ClientReadableStream, Metadata, type ServiceError, credentials, status } from "@grpc/grpc-js";
import { OrderStore } from "@orderstream/bus";
import { type BulkResponse, type Order, OrderServiceClient, type OrderResult, OrderStatus, health } from "@orderstream/proto";
import { type ServiceProcess, type TestCert, type TestRedis, selfSignedCert, signToken, startRedis, startService } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, grpcError, orderReq, startHarness } from "./testing/api-harness.js";

const SECRET = "order-api-auth-test-secret";
const alice = signToken(SECRET, { sub: "alice" });
const admin = signToken(SECRET, { sub: "ops", admin: true });
const bearer = (token: string | undefined): Metadata => {
  const md = new Metadata();
  if (token !== undefined) md.set("authorization", `Bearer ${token}`);
  return md;
};
const deadline = (): { deadline: number } => ({ deadline: Date.now() + 5000 });

function create(client: OrderServiceClient, userId: string, token?: string): Promise<Order> {
  return new Promise((resolve, reject) => client.createOrder(orderReq(userId), bearer(token), deadline(), (e, r) => (e ? reject(e) : resolve(r))));
}

function bulk(client: OrderServiceClient, userIds: string[], token?: string): Promise<BulkResponse> {
  return new Promise((resolve, reject) => {
    const call = client.bulkCreateOrders(bearer(token), deadline(), (e, r) => (e ? reject(e) : resolve(r)));
    for (const u of userIds) call.write(orderReq(u));
    call.end();
  });
}

/** Opens SubscribeOrders: resolves "subscribed" once the server's headers say so, or the error that ended it. */
function subscribe(client: OrderServiceClient, userId: string, token?: string): { call: ClientReadableStream<Order>; outcome: Promise<"subscribed" | ServiceError>; orders: Order[] } {
  const call = client.subscribeOrders({ statuses: [], userId, sinceOffset: "" }, bearer(token));
  const orders: Order[] = [];
  call.on("data", (o: Order) => orders.push(o));
  const outcome = new Promise<"subscribed" | ServiceError>((resolve) => {
    call.on("error", (e: ServiceError) => resolve(e));
    call.on("metadata", (md: Metadata) => {
      if (md.get("subscribed")[0] === "true") resolve("subscribed");
    });
  });
  return { call, outcome, orders };
}

function process(client: OrderServiceClient, orderId: string, token?: string): Promise<OrderResult[]> {
  return new Promise((resolve, reject) => {
    const results: OrderResult[] = [];
    const call = client.processOrders(bearer(token), deadline());
    call.on("data", (r: OrderResult) => results.push(r));
    call.on("error", reject);
    call.on("end", () => resolve(results));
    call.write({ orderId, action: "confirm", payload: Buffer.alloc(0) });
    call.end();
  });
}

describe("order-api with ORDER_API_AUTH=jwt", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startHarness({ authKeys: { hs256Secrets: [SECRET], jwks: undefined, publicKeyPem: undefined, algorithms: [] } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers every OrderService RPC without a (valid) token UNAUTHENTICATED, and keeps health open", async () => {
    for (const token of [undefined, signToken("another-secret", { sub: "alice" }), signToken(SECRET, { sub: "alice" }, -5)]) {
      const errs = [
        await grpcError(create(h.client, "alice", token)),
        await grpcError(bulk(h.client, ["alice"], token)),
        (await subscribe(h.client, "alice", token).outcome) as ServiceError,
        await grpcError(process(h.client, "some-order", token)),
      ];
      for (const e of errs) expect({ code: e.code, details: e.details }).toMatchObject({ code: status.UNAUTHENTICATED, details: token ? /invalid token/ : /missing token/ });
    }
    const md = new Metadata();
    md.set("authorization", "Basic dXNlcjpwYXNz");
    const basic = await grpcError(new Promise((res, rej) => h.client.createOrder(orderReq("alice"), md, deadline(), (e, r) => (e ? rej(e) : res(r)))));
    expect(basic.code).toBe(status.UNAUTHENTICATED);
    const hc = new health.HealthClient(h.address, credentials.createInsecure());
    const r = await new Promise<health.HealthCheckResponse>((res, rej) => hc.check({ service: "" }, (e, x) => (e ? rej(e) : res(x))));
    expect(r.status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    hc.close();
  });

  it("lets a user create and stream its own orders only; another user's orders and admin-only calls are PERMISSION_DENIED", async () => {
    const own = subscribe(h.client, "alice", alice);
    expect(await own.outcome).toBe("subscribed");
    const order = await create(h.client, "alice", alice);
    expect(order).toMatchObject({ userId: "alice", status: OrderStatus.PENDING });
    expect((await bulk(h.client, ["alice", "alice"], alice)).createdCount).toBe(2);
    await expect.poll(() => own.orders.map((o) => o.id)).toContain(order.id);
    own.call.cancel();

    const denied = [
      await grpcError(create(h.client, "bob", alice)),
      await grpcError(bulk(h.client, ["alice", "bob"], alice)),
      (await subscribe(h.client, "", alice).outcome) as ServiceError,
      (await subscribe(h.client, "bob", alice).outcome) as ServiceError,
      await grpcError(process(h.client, order.id, alice)),
    ];
    for (const e of denied) expect(e.code, e.details).toBe(status.PERMISSION_DENIED);
    expect(denied.map((e) => e.details)).toEqual([
      expect.stringMatching(/may create orders only for itself/),
      expect.stringMatching(/may create orders only for itself/),
      expect.stringMatching(/without user_id needs an admin token/),
      expect.stringMatching(/may stream only its own orders/),
      expect.stringMatching(/ProcessOrders needs an admin token/),
    ]);
    // Nothing was written for bob.
    const store = new OrderStore(h.r);
    expect(await store.get(order.id)).toMatchObject({ userId: "alice" });
  });

  it("lets an admin create for anyone, stream all orders and process orders", async () => {
    const all = subscribe(h.client, "", admin);
    expect(await all.outcome).toBe("subscribed");
    const order = await create(h.client, "carol", admin);
    expect((await bulk(h.client, ["dave", "erin"], admin)).createdCount).toBe(2);
    const [result] = await process(h.client, order.id, admin);
    expect(result).toMatchObject({ orderId: order.id, errorCode: "" });
    await expect.poll(() => all.orders.some((o) => o.id === order.id)).toBe(true);
    all.call.cancel();
  });
});

describe("order-api over TLS (GRPC_TLS_CERT / GRPC_TLS_KEY), a real process with ORDER_API_AUTH=jwt", () => {
  const ENTRY = fileURLToPath(new URL("../dist/main.js", import.meta.url));
  let cert: TestCert | undefined;
  let svc: ServiceProcess | undefined;
  let port = 0;
  let redis: TestRedis | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    cert = selfSignedCert();
    svc = startService(
      ENTRY,
      {
        REDIS_URL: redis.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: "0", METRICS_PORT: "0", SHUTDOWN_TIMEOUT_MS: "3000",
        ORDER_API_AUTH: "jwt", AUTH_JWT_SECRET: `rotated-in,${SECRET}`,
        GRPC_TLS_CERT: cert.certFile, GRPC_TLS_KEY: cert.keyFile,
      },
      "order-api",
    );
    const line = await svc.waitFor(/\{[^\n]*"msg":"ready"[^\n]*\}/, 15_000);
    port = (JSON.parse(line) as { port: number }).port;
  });
  afterAll(async () => {
    await svc?.stop("SIGKILL");
    await redis?.stop();
    cert?.remove();
  });

  it("serves TLS clients that trust the certificate, with the token checked; plaintext clients fail", async () => {
    const tls = new OrderServiceClient(`localhost:${port}`, credentials.createSsl(readFileSync(cert?.certFile ?? "")));
    const plain = new OrderServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      expect(await create(tls, "alice", alice)).toMatchObject({ userId: "alice" });
      expect(await create(tls, "zoe", signToken("rotated-in", { sub: "zoe" }))).toMatchObject({ userId: "zoe" }); // either secret
      expect((await grpcError(create(tls, "alice"))).code).toBe(status.UNAUTHENTICATED);
      expect((await grpcError(create(tls, "bob", alice))).code).toBe(status.PERMISSION_DENIED);
      expect((await grpcError(create(plain, "alice", alice))).code).toBe(status.UNAVAILABLE);
    } finally {
      tls.close();
      plain.close();
    }
  });
});
