import { existsSync } from "node:fs";
import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis } from "@orderstream/testkit";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { edgeConfig } from "./test-support/edge-env.js";
import { orderRequest } from "./test-support/ws-client.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => existsSync(p));

let redis: TestRedis;
let cmd: RedisConnection;
let node: EdgeNode;
let browser: Browser | undefined;

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  node = await startEdge(edgeConfig(redis.url), createLogger("silent", "dash"));
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

describe("dashboard page", () => {
  // "live" is shown once the page got its `subscribed` reply.
  it.skipIf(!CHROMIUM)("shows live orders with status updates and counters, anonymously, in a real browser", async () => {
    browser = await chromium.launch({ ...(CHROMIUM ? { executablePath: CHROMIUM } : {}), args: ["--no-sandbox"] });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${node.port}/`);
    await page.waitForFunction(() => document.getElementById("conn")?.textContent === "live", undefined, { timeout: 10_000 });
    const store = new OrderStore(cmd);
    const { order } = await store.create(orderRequest("web"));
    await store.transition(order.id, "confirm");
    await store.create(orderRequest("web2"));
    await page.waitForFunction(() => document.getElementById("events")?.textContent === "3", undefined, { timeout: 10_000 });
    expect(await page.textContent("#orders")).toBe("2");
    expect(await page.textContent("#updates")).toBe("1");
    const row = page.locator("tr", { hasText: order.id });
    expect(await row.locator("td").nth(4).textContent()).toBe("CONFIRMED");
  });
});
