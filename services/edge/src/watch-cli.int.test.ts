import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { makeToken, orderRequest } from "./test-support/ws-client.js";

// The watch CLI lives in packages/loadgen (installable without the edge); tested here against a real edge.
const CLI = fileURLToPath(new URL("../../../packages/loadgen/dist/watch-cli.js", import.meta.url));
let redis: TestRedis;
let cmd: RedisConnection;
let node: EdgeNode;

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  node = await startEdge(edgeConfig(redis.url, { ANONYMOUS_ALL_ORDERS: "false" }), createLogger("silent", "cli"));
});

afterAll(async () => {
  await node?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

describe("watch CLI", () => {
  it("prints the live events of a channel one JSON line each, with a token", async () => {
    const token = await makeToken(TEST_SECRET, "ops", { admin: true });
    const cli = spawn(process.execPath, [CLI, `ws://127.0.0.1:${node.port}/ws`, "orders.status", "--token", token], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    cli.stdout.on("data", (d: Buffer) => (out += d.toString()));
    cli.stderr.on("data", (d: Buffer) => (err += d.toString()));
    try {
      await waitUntil(() => err.includes('"type":"subscribed"'), "the CLI subscribed", 10_000);
      const store = new OrderStore(cmd);
      const { order } = await store.create(orderRequest("cli"));
      await store.transition(order.id, "confirm");
      await store.transition(order.id, "cancel");
      await waitUntil(() => out.trim().split("\n").length >= 2, "two lines printed", 10_000);
      const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { type: string; data: { id: string; status: string } });
      expect(lines.map((l) => [l.type, l.data.id, l.data.status])).toEqual([
        ["order.status", order.id, "CONFIRMED"],
        ["order.status", order.id, "CANCELLED"],
      ]);
    } finally {
      cli.kill("SIGINT");
    }
  });

  it("exits non-zero when the token is refused", async () => {
    const cli = spawn(process.execPath, [CLI, `ws://127.0.0.1:${node.port}/ws`, "orders.status", "--token", "bad"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    cli.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => cli.once("exit", r));
    expect(code).toBe(1);
    expect(err).toContain("HTTP 401");
  });
});
