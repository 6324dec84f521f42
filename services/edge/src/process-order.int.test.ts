import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type ServiceProcess, type TestRedis, startRedis, startService } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { type Frame, type TestClient, connect, makeToken, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

const ORDER_API = fileURLToPath(new URL("../../order-api/dist/main.js", import.meta.url));
const haveOrderApi = existsSync(ORDER_API);

let redis: TestRedis;
let cmd: RedisConnection;
let api: ServiceProcess | undefined;
let edge: EdgeNode;
let edgeNoApi: EdgeNode;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  let apiUrl = "127.0.0.1:1";
  if (haveOrderApi) {
    api = startService(ORDER_API, { REDIS_URL: redis.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: "0", METRICS_PORT: "0" }, "order-api");
    const line = await api.waitFor(/\{[^\n]*"msg":"ready"[^\n]*\}/);
    apiUrl = `127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  }
  const log = createLogger("silent", "po");
  edge = await startEdge(edgeConfig(redis.url, { ORDER_API_URL: apiUrl }), log);
  edgeNoApi = await startEdge(edgeConfig(redis.url, { ORDER_API_URL: "127.0.0.1:1" }), log);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await edge?.stop();
  await edgeNoApi?.stop();
  await api?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

async function as(node: EdgeNode, sub?: string, admin = false): Promise<TestClient> {
  const q = sub ? `?token=${await makeToken(TEST_SECRET, sub, { admin })}` : "";
  const c = await connect(`ws://127.0.0.1:${node.port}/ws${q}`);
  clients.push(c);
  return c;
}

async function act(c: TestClient, msg: Record<string, unknown>): Promise<Frame> {
  const from = c.frames.length;
  c.send({ type: "process_order", timestamp: Date.now(), ...msg });
  return c.next((f) => f.type === "process_order.result" || f.type === "error", 8000, from);
}

describe("process_order", () => {
  it("refuses other users and anonymous sockets with `forbidden` before reaching order-api", async () => {
    const { order } = await new OrderStore(cmd).create(orderRequest("alice"));
    expect(await act(await as(edgeNoApi, "bob"), { order_id: order.id })).toMatchObject({ type: "error", error: { code: "forbidden" } });
    expect(await act(await as(edgeNoApi), { order_id: order.id })).toMatchObject({ type: "error", error: { code: "forbidden" } });
    expect(await act(await as(edgeNoApi, "bob"), { order_id: "no-such-order" })).toMatchObject({ error: { code: "forbidden" } });
  });

  it("answers `unavailable` when order-api cannot be reached, and rejects unknown actions", async () => {
    const { order } = await new OrderStore(cmd).create(orderRequest("alice"));
    const alice = await as(edgeNoApi, "alice");
    expect(await act(alice, { order_id: order.id, action: "confirm" })).toMatchObject({
      type: "process_order.result",
      order_id: order.id,
      error_code: "unavailable",
    });
    expect(await act(alice, { order_id: order.id, action: "explode" })).toMatchObject({ error_code: "invalid_argument" });
    expect(await act(alice, { order_id: 7 })).toMatchObject({ type: "error", error: { code: "bad_request" } });
  });

  it.skipIf(!haveOrderApi)("forwards the owner's and an admin's actions to order-api (real child process)", async () => {
    const { order } = await new OrderStore(cmd).create(orderRequest("alice"));
    const alice = await as(edge, "alice");
    expect(await subscribeAndWait(alice, ["orders.user.alice"])).toMatchObject({ type: "subscribed" });
    expect(await act(alice, { order_id: order.id, action: "confirm" })).toEqual({
      type: "process_order.result",
      order_id: order.id,
      status: "CONFIRMED",
      message: expect.any(String),
    });
    // The seed's frame has no action: it means `process`.
    expect(await act(alice, { order_id: order.id })).toMatchObject({ order_id: order.id, status: "PROCESSING" });
    expect(await act(alice, { order_id: order.id, action: "confirm" })).toMatchObject({ error_code: "invalid_transition", status: "PROCESSING" });
    expect(await act(await as(edge, "bob"), { order_id: order.id, action: "cancel" })).toMatchObject({ error: { code: "forbidden" } });
    expect(await act(await as(edge, "ops", true), { order_id: order.id, action: "ship" })).toMatchObject({ status: "SHIPPED" });
    expect(await act(await as(edge, "ops", true), { order_id: "no-such-order", action: "ship" })).toMatchObject({ error_code: "not_found" });
    await alice.next(() => alice.events("orders.user.alice").filter((f) => f.type === "order.status").length === 3);
    expect(alice.events().filter((f) => f.type === "order.status").map((f) => (f["data"] as { status: string }).status)).toEqual([
      "CONFIRMED",
      "PROCESSING",
      "SHIPPED",
    ]);
  });
});
