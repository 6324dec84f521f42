import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Metadata, credentials } from "@grpc/grpc-js";
import { type Order, OrderServiceClient } from "@orderstream/proto";
import { type ServiceProcess, type TestCert, type TestRedis, selfSignedCert, signToken, startRedis, startService } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { type TestClient, connect } from "./test-support/ws-client.js";

// order-api as in production: ORDER_API_AUTH=jwt, gRPC over TLS (a self-signed certificate the
// edge trusts through ORDER_API_TLS_CA). The edge forwards process_order with its service token.
const ORDER_API = fileURLToPath(new URL("../../order-api/dist/main.js", import.meta.url));
let redis: TestRedis;
let cert: TestCert;
let api: ServiceProcess | undefined;
let apiAddress = "";
let edge: EdgeNode;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cert = selfSignedCert();
  api = startService(
    ORDER_API,
    {
      REDIS_URL: redis.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: "0", METRICS_PORT: "0", ORDER_API_AUTH: "jwt", AUTH_JWT_SECRET: TEST_SECRET,
      GRPC_TLS_CERT: cert.certFile, GRPC_TLS_KEY: cert.keyFile,
    },
    "order-api",
  );
  const line = await api.waitFor(/\{[^\n]*"msg":"ready"[^\n]*\}/, 15_000);
  apiAddress = `localhost:${(JSON.parse(line) as { port: number }).port}`;
  edge = await startEdge(
    edgeConfig(redis.url, { ORDER_API_URL: apiAddress, ORDER_API_TLS_CA: cert.certFile }),
    createLogger("silent", "tls-edge"),
  );
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await edge?.stop();
  await api?.stop();
  await redis?.stop();
  cert?.remove();
});

function createAs(token: string, userId: string): Promise<Order> {
  const client = new OrderServiceClient(apiAddress, credentials.createSsl(readFileSync(cert.certFile)));
  const md = new Metadata();
  md.set("authorization", `Bearer ${token}`);
  return new Promise<Order>((resolve, reject) =>
    client.createOrder({ userId, items: [{ productId: "p", quantity: 1, price: 5 }] }, md, { deadline: Date.now() + 5000 }, (e, r) => {
      client.close();
      return e ? reject(e) : resolve(r);
    }),
  );
}

describe("process_order towards an authenticated order-api over TLS", () => {
  it("forwards the owner's action (with the edge's service token) and refuses another user's at the edge", async () => {
    const alice = signToken(TEST_SECRET, { sub: "alice" });
    const order = await createAs(alice, "alice");
    const own = await connect(`ws://127.0.0.1:${edge.port}/ws?token=${alice}`);
    const other = await connect(`ws://127.0.0.1:${edge.port}/ws?token=${signToken(TEST_SECRET, { sub: "mallory" })}`);
    clients.push(own, other);
    other.send({ type: "process_order", order_id: order.id, action: "cancel" });
    expect(await other.next((f) => f.type === "error" || f.type === "process_order.result", 10_000)).toMatchObject({ type: "error", error: { code: "forbidden" } });
    own.send({ type: "process_order", order_id: order.id, action: "cancel" });
    expect(await own.next((f) => f.type === "error" || f.type === "process_order.result", 10_000)).toMatchObject({
      type: "process_order.result",
      order_id: order.id,
      status: "CANCELLED",
    });
  });
});
