import { type TestRedis, startRedis } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { edgeConfig } from "./test-support/edge-env.js";
import { connect } from "./test-support/ws-client.js";

let redis: TestRedis;
let node: EdgeNode;

beforeAll(async () => {
  redis = await startRedis();
  node = await startEdge(edgeConfig(redis.url, { IDLE_TIMEOUT_S: "8" }), createLogger("silent", "idle"));
});

afterAll(async () => {
  await node?.stop();
  await redis?.stop();
});

describe("idle sockets", () => {
  it("are kept alive past IDLE_TIMEOUT_S by server pings answered with pongs", async () => {
    const c = await connect(`ws://127.0.0.1:${node.port}/ws`);
    let pings = 0;
    c.ws.on("ping", () => pings++);
    await new Promise((r) => setTimeout(r, 11_000));
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect(pings).toBeGreaterThanOrEqual(1);
    await c.close();
  }, 20_000);
});
