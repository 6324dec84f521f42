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

  it("serves a static page (no data) that reads no token from its URL and sends it only in connect", async () => {
    const res = await page();
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<form id="login-form"');
    expect(html).toContain("sessionStorage.getItem(KEY)");
    expect(html).toContain('{ type: "connect", token: token');
    expect(html).not.toMatch(/location\.(hash|search)|document\.cookie|localStorage/);
  });

  it("keeps itself to itself: a CSP with its own script's hash, sockets to its origin only, no framing", async () => {
    const res = await page();
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("keeps /healthz, /readyz and /metrics open on the pod port (the Ingress does not route them)", async () => {
    const base = `http://127.0.0.1:${node.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
