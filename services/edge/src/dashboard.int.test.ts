import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM, type TestRedis, startRedis } from "@orderstream/testkit";
import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";
import { TEST_SECRET, edgeConfig } from "./test-support/edge-env.js";
import { makeToken, orderRequest } from "./test-support/ws-client.js";

// The page's live orders and counters, on an in-process edge with anonymous all-orders access ON
// (the local demo): even there the page shows nothing before an admin signs in. The whole admin
// page across a cluster is admin-page.int.test.ts.

let redis: TestRedis;
let cmd: RedisConnection;
let node: EdgeNode;
let browser: Browser | undefined;

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  node = await startEdge(edgeConfig(redis.url), createLogger("silent", "dash"));
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

describe("dashboard page", () => {
  it.skipIf(!CHROMIUM)(
    "shows nothing anonymously, even with anonymous access on; signed in, live orders with status updates and counters",
    async () => {
      const page = await browser!.newPage();
      await page.goto(`http://127.0.0.1:${node.port}/`);
      expect(await page.isHidden("#app")).toBe(true);
      expect(await page.textContent("#conn")).toBe("signed out");
      await page.fill("#token", await makeToken(TEST_SECRET, "root", { admin: true }));
      await page.click("#signin");
      await page.waitForFunction(() => document.getElementById("conn")?.textContent === "live", undefined, { timeout: 10_000 });
      const store = new OrderStore(cmd);
      const { order } = await store.create(orderRequest("web"));
      await store.transition(order.id, "confirm");
      await store.create(orderRequest("web2"));
      await page.waitForFunction(() => document.getElementById("events")?.textContent === "3", undefined, { timeout: 10_000 });
      expect(await page.textContent("#orders")).toBe("2");
      expect(await page.textContent("#updates")).toBe("1");
      const row = page.locator("#rows tr", { hasText: order.id });
      expect(await row.locator("td").nth(4).textContent()).toBe("CONFIRMED");
      // A reload keeps the session (sessionStorage, this tab only) and signs in again by itself.
      await page.reload();
      await page.waitForFunction(() => document.getElementById("conn")?.textContent === "live", undefined, { timeout: 10_000 });
      expect(page.url()).toBe(`http://127.0.0.1:${node.port}/`);
      await page.close();
    },
  );
});
