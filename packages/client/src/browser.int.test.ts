import { OFFSET_PATTERN } from "./wire-contract.js";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@orderstream/testkit";
import { type EdgeCluster, type TestEdge, startEdgeCluster } from "./edge-cluster.test-helper.js";

const BUNDLE_SCRIPT = fileURLToPath(new URL("../scripts/bundle.mjs", import.meta.url));
const BUNDLE = fileURLToPath(new URL("../dist/orderstream-client.browser.js", import.meta.url));
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** A page that loads the bundle as a module, subscribes, and keeps what it receives on `window`. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>orderstream client</title>
<script type="module">
  import { OrderStreamClient } from "/orderstream-client.browser.js";
  const urls = new URLSearchParams(location.search).getAll("ws");
  const seen = { received: [], states: [], subscribed: 0, errors: [], closes: [] };
  window.seen = seen;
  const client = new OrderStreamClient({ url: urls, minReconnectDelayMs: 100, maxReconnectDelayMs: 500 });
  client.on("close", (c) => seen.closes.push(c));
  client.on("state", (s) => seen.states.push(s));
  client.on("subscribed", () => seen.subscribed++);
  client.on("error", (e) => seen.errors.push(String(e && e.message)));
  client.subscribe("orders.created", (e) => seen.received.push({ id: e.data.id, offset: e.offset, status: e.data.status }));
  client.connect();
</script>`;

let cluster: EdgeCluster;
let edge: TestEdge;
let spare: TestEdge;
let http: Server;
let pageUrl: string;
let browser: Browser | undefined;

beforeAll(async () => {
  execFileSync(process.execPath, [BUNDLE_SCRIPT], { stdio: "pipe" });
  const bundle = readFileSync(BUNDLE);
  cluster = await startEdgeCluster();
  [edge, spare] = await Promise.all([cluster.startEdge("eb1"), cluster.startEdge("eb2")]);
  const port = await freePort();
  http = createServer((req, res) => {
    if (req.url?.startsWith("/orderstream-client.browser.js")) {
      res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else if (req.url === "/" || req.url?.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => http.listen(port, "127.0.0.1", r));
  pageUrl = `http://127.0.0.1:${port}/?ws=${encodeURIComponent(edge.url)}&ws=${encodeURIComponent(spare.url)}`;
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (http ? http.close(r) : r(undefined)));
  await cluster?.stop();
});

describe("browser bundle in headless Chromium", () => {
  it("has no Node code, loads as an ES module, receives published events, and resumes on another node after a crash", async () => {
    const text = readFileSync(BUNDLE, "utf8");
    expect(text).not.toMatch(/from\s+["']node:|require\(["']/);
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
