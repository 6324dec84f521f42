import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH as CHROMIUM,
  type ServiceProcess,
  type TestRedis,
  startRedis,
  startService,
} from "@orderstream/testkit";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Metadata, credentials } from "@grpc/grpc-js";
import { buildInfo } from "@orderstream/bus";
import { type Order, OrderServiceClient } from "@orderstream/proto";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeProcess, startEdgeProcess } from "./test-support/edge-process.js";
import { TEST_SECRET } from "./test-support/edge-env.js";
import { type TestClient, connect, connectAs, makeToken, subscribeAndWait } from "./test-support/ws-client.js";

// The admin page at `/`, end to end: two edge processes, order-api and a processor as child
// processes on one real redis-server, driven in a real headless Chromium. Screenshots go to a
// temporary folder (SAVE_ADMIN_SCREENSHOT=1 also copies the signed-in one to docs/images/).
const ORDER_API = fileURLToPath(new URL("../../order-api/dist/main.js", import.meta.url));
const PROCESSOR = fileURLToPath(new URL("../../processor/dist/main.js", import.meta.url));
const DOCS_SHOT = fileURLToPath(new URL("../../../docs/images/admin-page.png", import.meta.url));
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ready = /\{[^\n]*"msg":"ready"[^\n]*\}/;

let redis: TestRedis;
let api: ServiceProcess;
let processor: ServiceProcess;
let edgeA: EdgeProcess;
let edgeB: EdgeProcess;
let grpc: OrderServiceClient;
let browser: Browser | undefined;
let shots: string;
const clients: TestClient[] = [];

beforeAll(async () => {
  shots = mkdtempSync(join(tmpdir(), "admin-page-"));
  redis = await startRedis();
  api = startService(
    ORDER_API,
    { REDIS_URL: redis.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: "0", METRICS_PORT: "0", LOG_LEVEL: "info" },
    "order-api",
  );
  const apiPort = (JSON.parse(await api.waitFor(ready)) as { port: number }).port;
  // SHIP_DELAY_MS=0: the processor takes an order to PROCESSING and stops; the page ships it.
  processor = startService(PROCESSOR, { REDIS_URL: redis.url, HEALTH_PORT: "0", SHIP_DELAY_MS: "0", LOG_LEVEL: "info" }, "processor");
  await processor.waitFor(ready);
  const edgeEnv = { ANONYMOUS_ALL_ORDERS: "false", ORDER_API_URL: `127.0.0.1:${apiPort}` };
  [edgeA, edgeB] = await Promise.all([
    startEdgeProcess(redis.url, { ...edgeEnv, NODE_ID: "edge-a" }),
    startEdgeProcess(redis.url, { ...edgeEnv, NODE_ID: "edge-b" }),
  ]);
  grpc = new OrderServiceClient(`127.0.0.1:${apiPort}`, credentials.createInsecure());
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await browser?.close();
  grpc?.close();
  await Promise.all([edgeA?.svc.stop(), edgeB?.svc.stop(), processor?.stop(), api?.stop()]);
  await redis?.stop();
  if (shots) rmSync(shots, { recursive: true, force: true });
});

function createOrder(userId: string): Promise<Order> {
  return new Promise((resolve, reject) => {
    const req = { userId, items: [{ productId: "sku-1", quantity: 2, price: 9.5 }] };
    grpc.createOrder(req, new Metadata(), { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  const png = readFileSync(path);
  expect(png.subarray(0, 8).equals(PNG_MAGIC), `${name}.png is a PNG`).toBe(true);
  expect(png.length, `${name}.png is not empty`).toBeGreaterThan(2000);
  return path;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.fill("#token", token);
  await page.click("#signin");
}

describe("the admin page", () => {
  it.skipIf(!CHROMIUM)(
    "without a token shows only the sign-in form; a bad token is refused (4001), a user's token gets forbidden",
    async () => {
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      const base = `http://127.0.0.1:${edgeA.port}/`;
      await page.goto(base);
      expect(await page.isVisible("#login-form")).toBe(true);
      expect(await page.isHidden("#app")).toBe(true);
      expect(await page.locator("#nodes tbody tr").count()).toBe(0);
      await screenshot(page, "signed-out");

      await signIn(page, await makeToken("wrong-secret", "root", { admin: true }));
      await page.waitForFunction(() => document.getElementById("login-error")?.textContent?.includes("4001"), undefined, {
        timeout: 10_000,
      });
      expect(await page.isHidden("#app")).toBe(true);

      await signIn(page, await makeToken(TEST_SECRET, "alice"));
      await page.waitForFunction(() => document.getElementById("login-error")?.textContent?.startsWith("forbidden"), undefined, {
        timeout: 10_000,
      });
      expect(await page.isHidden("#app")).toBe(true);
      expect(await page.locator("#nodes tbody tr").count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      expect(page.url()).toBe(base);
      await screenshot(page, "forbidden");
      await page.close();
    },
  );

  it("refuses every admin frame from a non-admin socket with forbidden, and disconnects nobody", async () => {
    const bob = await connectAs(edgeB.url, await makeToken(TEST_SECRET, "bob"));
    const mallory = await connectAs(edgeA.url, await makeToken(TEST_SECRET, "mallory"));
    clients.push(bob, mallory);
    for (const [i, frame] of [
      { type: "admin.nodes" },
      { type: "admin.user_sockets", user: "bob" },
      { type: "admin.disconnect", user: "bob" },
    ].entries()) {
      const from = mallory.frames.length;
      mallory.send({ ...frame, id: i });
      const reply = await mallory.next((f) => f["id"] === i, 5000, from);
      expect(reply).toMatchObject({ type: "error", error: { code: "forbidden" } });
    }
    expect(await subscribeAndWait(bob, ["orders.user.bob"])).toMatchObject({ type: "subscribed" });
  });

  it.skipIf(!CHROMIUM)(
    "with an admin token: nodes with versions, live orders, a user's sockets on both edges disconnected with 4009, process_order actions",
    async () => {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const base = `http://127.0.0.1:${edgeA.port}/`;
      await page.goto(base);
      await signIn(page, await makeToken(TEST_SECRET, "root", { admin: true }));
      await page.waitForFunction(() => document.getElementById("conn")?.textContent === "live", undefined, { timeout: 10_000 });

      // Nodes: both edges, order-api and the processor, each with this build's version and commit.
      const nodes = page.locator("#nodes tbody tr");
      await page.waitForFunction(() => document.querySelectorAll("#nodes tbody tr").length === 4, undefined, { timeout: 10_000 });
      const table = (await nodes.allTextContents()).join("\n");
      for (const name of ["edge-a", "edge-b", "order-api", "processor"]) expect(table).toContain(name);
      const { version, commit } = buildInfo();
      expect(await page.locator("#nodes tbody tr td:nth-child(5)").allTextContents()).toEqual([version, version, version, version]);
      expect(await page.locator("#nodes tbody tr td:nth-child(6)").allTextContents()).toEqual([commit, commit, commit, commit]);

      // The token is in sessionStorage only: not in the URL, no cookie.
      expect(page.url()).toBe(base);
      expect(await context.cookies()).toEqual([]);

      // A created order appears live and the processor takes it to PROCESSING; the page ships it.
      const order = await createOrder("carol");
      const row = page.locator("#rows tr", { hasText: order.id });
      await row.locator("td", { hasText: "PROCESSING" }).waitFor({ timeout: 10_000 });
      await row.click();
      expect(await page.textContent("#sel")).toBe(order.id);
      await page.click('#actions button[data-action="ship"]');
      await page.waitForFunction(() => document.getElementById("action-result")?.textContent?.endsWith("now SHIPPED"), undefined, {
        timeout: 10_000,
      });
      await row.locator("td", { hasText: "SHIPPED" }).waitFor({ timeout: 10_000 });
      await page.click('#actions button[data-action="confirm"]');
      await page.waitForFunction(() => document.getElementById("action-result")?.textContent?.includes("invalid_transition"), undefined, {
        timeout: 10_000,
      });
      await createOrder("dave");

      // A user's sockets, one on each edge (the page talks to edge A), listed and then disconnected.
      const aliceToken = await makeToken(TEST_SECRET, "alice");
      const onB = await connectAs(edgeB.url, aliceToken);
      const onA = await connect(edgeA.url);
      clients.push(onB, onA);
      onA.send({ type: "connect", token: aliceToken });
      await onA.next((f) => f.type === "connected");
      expect(await subscribeAndWait(onB, ["orders.user.alice"])).toMatchObject({ type: "subscribed" });
      await page.fill("#user", "alice");
      await page.click('#user-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelectorAll("#sockets tbody tr").length === 2, undefined, { timeout: 10_000 });
      const sockets = (await page.locator("#sockets tbody tr").allTextContents()).join("\n");
      expect(sockets).toContain("edge-a");
      expect(sockets).toContain("edge-b");
      expect(sockets).toContain("orders.user.alice");
      expect(await page.textContent("#user-result")).toBe("alice: 2 socket(s) on 2 edge(s)");
      await page.locator("#rows tr").first().waitFor();
      const shot = await screenshot(page, "admin");
      if (process.env["SAVE_ADMIN_SCREENSHOT"] === "1" && statSync(shot).size < 150_000) copyFileSync(shot, DOCS_SHOT);

      await page.click("#disconnect");
      const [closedB, closedA] = await Promise.all([onB.closed, onA.closed]);
      for (const c of [closedB, closedA]) expect(c).toMatchObject({ code: 4009, reason: "disconnected by admin" });
      await page.waitForFunction(
        () => document.getElementById("user-result")?.textContent?.includes("disconnected 2 socket(s)"),
        undefined,
        {
          timeout: 10_000,
        },
      );
      // The admin's own socket and bob's (another user) stay open.
      expect(await page.textContent("#conn")).toBe("live");

      // Sign out: the data is gone from the page and from the tab's storage.
      await page.click("#signout");
      expect(await page.isHidden("#app")).toBe(true);
      expect(await page.locator("#rows tr").count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      await context.close();
    },
    60_000,
  );
});
