import { CHROMIUM_ARGS, chromiumPath, freePort } from "@orderstream/testkit";
import { OFFSET_PATTERN } from "@orderstream/wire";
import { existsSync, readFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeCluster, type TestEdge, signToken, startEdgeCluster } from "./edge-cluster.test-helper.js";

/** The script-tag build (IIFE, global `OrderStream`), as `npm run build` writes it. */
const BUNDLE = fileURLToPath(new URL("../dist/orderstream-client.min.js", import.meta.url));

/**
 * A page that loads the script-tag build with a plain <script src>, connects with a token (sent in
 * `connect`), subscribes, shows every order in a list and keeps what it receives on `window`.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>orderstream client</title>
<ul id="orders"></ul>
<script src="/orderstream-client.min.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  const seen = { received: [], states: [], subscribed: 0, errors: [], closes: [], connected: [] };
  window.seen = seen;
  const client = new OrderStream.OrderStreamClient({ url: params.getAll("ws"), getToken: () => new URLSearchParams(location.hash.slice(1)).get("token"), minReconnectDelayMs: 100, maxReconnectDelayMs: 500 });
  client.on("close", (c) => seen.closes.push(c));
  client.on("state", (s) => seen.states.push(s));
  client.on("connected", (c) => seen.connected.push(c.user));
  client.on("subscribed", () => seen.subscribed++);
  client.on("error", (e) => seen.errors.push(String(e && e.message)));
  const sub = client.subscribe("orders.created");
  sub.on("event", (e) => {
    seen.received.push({ id: e.data.id, offset: e.offset, status: e.data.status });
    const li = document.createElement("li");
    li.textContent = e.data.id + " " + e.data.status + " " + e.data.total.toFixed(2);
    document.getElementById("orders").appendChild(li);
  });
  sub.ready().then(() => (document.title = "subscribed"));
  client.connect();
</script>`;

let cluster: EdgeCluster;
let edge: TestEdge;
let spare: TestEdge;
let http: Server;
let pageUrl: string;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build`);
  const bundle = readFileSync(BUNDLE);
  cluster = await startEdgeCluster();
  [edge, spare] = await Promise.all([cluster.startEdge("eb1"), cluster.startEdge("eb2")]);
  const port = await freePort();
  http = createServer((req, res) => {
    if (req.url?.startsWith("/orderstream-client.min.js")) {
      res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else if (req.url === "/" || req.url?.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => http.listen(port, "127.0.0.1", r));
  const token = signToken({ sub: "browser-user" });
  pageUrl = `http://127.0.0.1:${port}/?ws=${encodeURIComponent(edge.url)}&ws=${encodeURIComponent(spare.url)}#token=${token}`;
  browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (http ? http.close(r) : r(undefined)));
  await cluster?.stop();
});

describe("script-tag build in headless Chromium", () => {
  it("has no Node code, loads with <script src>, connects with a token, shows orders, and resumes on another node after a crash", async () => {
    const text = readFileSync(BUNDLE, "utf8");
    expect(text).not.toMatch(/from\s*["']node:|require\(["']|^import |^export /m);
    const page = await (browser as Browser).newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(pageUrl);
    await page.waitForFunction(() => (window as unknown as { seen?: { subscribed: number } }).seen?.subscribed === 1, undefined, { timeout: 10_000 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await cluster.createOrder());
    await page.waitForFunction(() => (window as unknown as { seen: { received: unknown[] } }).seen.received.length >= 5, undefined, { timeout: 10_000 });
    type Seen = {
      received: { id: string; offset: string; status: string }[];
      states: string[];
      errors: string[];
      closes: { code: number; willReconnect: boolean }[];
    };
    const first = (await page.evaluate(() => (window as unknown as { seen: unknown }).seen)) as Seen;
    expect(first.received.map((r) => r.id)).toEqual(ids);
    expect(first.received.every((r) => r.status === "PENDING" && OFFSET_PATTERN.test(r.offset))).toBe(true);
    expect(first.states).toEqual(["connecting", "open"]);
    expect(first.errors).toEqual([]);
    expect(await page.title()).toBe("subscribed");
    expect(await page.locator("#orders li").first().textContent()).toBe(`${ids[0]} PENDING 10.00`);
    expect(await page.evaluate(() => (window as unknown as { seen: { connected: string[] } }).seen.connected)).toEqual(["browser-user"]);

    // The browser's WebSocket sees its node die (1006), reconnects to the other one and resumes.
    await edge.svc.stop("SIGKILL");
    for (let i = 0; i < 5; i++) ids.push(await cluster.createOrder());
    await page.waitForFunction(() => (window as unknown as { seen: { received: unknown[] } }).seen.received.length >= 10, undefined, { timeout: 10_000 });
    const seen = (await page.evaluate(() => (window as unknown as { seen: unknown }).seen)) as Seen;
    // Every order once: the ones replayed after the move come grouped by partition.
    expect(seen.received.map((r) => r.id).sort()).toEqual([...ids].sort());
    const seqs = seen.received.map((r) => Number(/^[^:]*:(\d+)/.exec(r.offset)?.[1]));
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
    expect(seen.closes[0]).toMatchObject({ code: 1006, willReconnect: true });
    expect(seen.states.slice(-2)).toEqual(["connecting", "open"]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
