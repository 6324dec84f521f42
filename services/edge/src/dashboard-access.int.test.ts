import { type TestRedis, startRedis } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { edgeConfig } from "./test-support/edge-env.js";

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

  it("serves the page (static, no data) without a token in its URL; the page sends its token from the fragment in connect", async () => {
    const res = await page();
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('new URLSearchParams(location.hash.slice(1)).get("token")');
    expect(html).toContain('{ type: "connect", token: token');
    expect(html).not.toMatch(/"\/ws" \+ \(token/);
  });

  it("keeps /healthz, /readyz and /metrics open on the pod port (the Ingress does not route them)", async () => {
    const base = `http://127.0.0.1:${node.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
