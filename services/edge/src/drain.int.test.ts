import { type TestRedis, startRedis } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeProcess, startEdgeProcess } from "./test-support/edge-process.js";
import { type TestClient, connect, subscribeAndWait } from "./test-support/ws-client.js";

let redis: TestRedis;
let node: EdgeProcess | undefined;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await node?.svc.stop("SIGKILL");
  await redis?.stop();
});

const WINDOW_MS = 2000;

describe("SIGTERM drain", () => {
  it("goes unready first, refuses upgrades, closes sockets with 1001 spread over the window, then exits", async () => {
    node = await startEdgeProcess(redis.url, { DRAIN_WINDOW_MS: String(WINDOW_MS), SHUTDOWN_TIMEOUT_MS: "6000" });
    const http = `http://127.0.0.1:${node.port}`;
    const clients: TestClient[] = await Promise.all(Array.from({ length: 40 }, () => connect(node!.url)));
    await Promise.all(clients.map((c) => subscribeAndWait(c, ["orders.status"])));
    expect((await fetch(`${http}/readyz`)).status).toBe(200);

    let unreadyAt = 0;
    let polling = true;
    const poller = (async () => {
      for (let i = 0; i < 2000 && polling && !unreadyAt; i++) {
        try {
          const r = await fetch(`${http}/readyz`);
          if (r.status === 503) unreadyAt = Date.now();
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    node.svc.proc.kill("SIGTERM");
    await node.svc.waitFor(/"msg":"draining"/, 5000);
    await expect(connect(node.url)).rejects.toThrow("HTTP 503");
    expect((await fetch(`${http}/healthz`)).status).toBe(200);

    const closes = await Promise.all(clients.map((c) => c.closed));
    polling = false;
    await poller;
    expect(closes.every((c) => c.code === 1001)).toBe(true);
    const first = Math.min(...closes.map((c) => c.at));
    const last = Math.max(...closes.map((c) => c.at));
    expect(unreadyAt).toBeGreaterThan(0);
    expect(unreadyAt).toBeLessThanOrEqual(first);
    expect(last - first).toBeGreaterThanOrEqual(WINDOW_MS * 0.6);
    // Exit code 0 = finished before SHUTDOWN_TIMEOUT_MS (the deadline path exits with 1).
    expect(await node.svc.exited).toBe(0);
    expect(node.svc.output()).toMatch(/"msg":"stopped"/);
  });
});
