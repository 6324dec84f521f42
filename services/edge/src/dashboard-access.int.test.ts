import { type TestRedis, signToken, startRedis } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";

let redis: TestRedis;
let node: EdgeNode;

beforeAll(async () => {
  redis = await startRedis();
  node = await startEdge(edgeConfig(redis.url, { ANONYMOUS_ALL_ORDERS: "false" }), createLogger("silent", "dash-access"));
});

afterAll(async () => {
  await node?.stop();
  await redis?.stop();
});

describe("dashboard page with anonymous all-orders access off", () => {
  const page = (query = ""): Promise<Response> => fetch(`http://127.0.0.1:${node.port}/${query}`);

  it("refuses the page without a token, with a user's token and with a bad token", async () => {
    expect((await page()).status).toBe(401);
    expect(await (await page()).text()).toContain("admin token");
    expect((await page(`?token=${signToken(TEST_SECRET, { sub: "alice" })}`)).status).toBe(401);
    expect((await page(`?token=${signToken("another-secret", { sub: "root", admin: true })}`)).status).toBe(401);
  });

  it("serves the page to an admin token, which the page passes on to its WebSocket", async () => {
    const res = await page(`?token=${signToken(TEST_SECRET, { sub: "root", admin: true })}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('new URLSearchParams(location.search).get("token")');
  });

  it("keeps /healthz, /readyz and /metrics open on the pod port (the Ingress does not route them)", async () => {
    const base = `http://127.0.0.1:${node.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
