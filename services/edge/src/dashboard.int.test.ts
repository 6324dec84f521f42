import { existsSync } from "node:fs";
import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis } from "@orderstream/testkit";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { makeToken, orderRequest } from "./test-support/ws-client.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => existsSync(p));

let redis: TestRedis;
let cmd: RedisConnection;
let node: EdgeNode;
let closed: EdgeNode; // anonymous all-orders access off
let browser: Browser | undefined;

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  node = await startEdge(edgeConfig(redis.url), createLogger("silent", "dash"));
  closed = await startEdge(edgeConfig(redis.url, { ANONYMOUS_ALL_ORDERS: "false" }), createLogger("silent", "dash-closed"));
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  await closed?.stop();
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

  it.skipIf(!CHROMIUM)("with anonymous access off, goes live with an admin token from its URL fragment (sent in connect)", async () => {
    browser ??= await chromium.launch({ ...(CHROMIUM ? { executablePath: CHROMIUM } : {}), args: ["--no-sandbox"] });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${closed.port}/`);
    // No token: the page's first frame is not connect, so the edge closes it with 4001.
    await page.waitForFunction(() => document.getElementById("conn")?.textContent?.startsWith("unauthorized"), undefined, {
      timeout: 10_000,
    });
    const admin = await makeToken(TEST_SECRET, "root", { admin: true });
    await page.goto(`http://127.0.0.1:${closed.port}/#token=${admin}`);
    await page.reload();
    await page.waitForFunction(() => document.getElementById("conn")?.textContent === "live", undefined, { timeout: 10_000 });
    await page.goto(`http://127.0.0.1:${closed.port}/#token=${await makeToken("wrong-secret", "root", { admin: true })}`);
    await page.reload();
    await page.waitForFunction(() => document.getElementById("conn")?.textContent?.startsWith("unauthorized"), undefined, {
      timeout: 10_000,
    });
  });
});
