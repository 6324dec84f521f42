import { CHROMIUM_ARGS, CHROMIUM_PATH, freePort, waitUntil } from "@orderstream/testkit";
import { existsSync, readFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckedWebSocket,
  type EdgeCluster,
  type TestEdge,
  clientFrameProblems,
  signToken,
  startEdgeCluster,
} from "./edge-cluster.test-helper.js";
import { OrderStreamClient } from "./order-stream-client.js";
import type { OrderEvent } from "./protocol.js";

/** The script-tag build (IIFE, global `OrderStream`), as `npm run build` writes it. */
const BUNDLE = fileURLToPath(new URL("../dist/orderstream-client.min.js", import.meta.url));

/**
 * A page that keeps every WebSocket it opens (to read the negotiated `extensions`), then loads the
 * script-tag build, connects with a token and subscribes to orders.created.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>orderstream deflate</title>
<script>
  const Native = window.WebSocket;
  window.sockets = [];
  window.WebSocket = class extends Native {
    constructor(url, protocols) { super(url, protocols); window.sockets.push(this); }
  };
</script>
<script src="/orderstream-client.min.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  const seen = { received: [], subscribed: 0, errors: [] };
  window.seen = seen;
  const client = new OrderStream.OrderStreamClient({ url: params.get("ws"), getToken: () => new URLSearchParams(location.hash.slice(1)).get("token") });
  client.on("subscribed", () => seen.subscribed++);
  client.on("error", (e) => seen.errors.push(String(e && e.message)));
  client.subscribe("orders.created", (e) => seen.received.push({ id: e.data.id, items: e.data.items.length }));
  client.connect();
</script>`;

/** `ws` as the SDK gets it in Node (offers permessage-deflate, `ws`'s default), keeping each socket. */
const offering: CheckedWebSocket[] = [];
class OfferingWebSocket extends CheckedWebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    offering.push(this);
  }
}
/** `ws` told not to offer permessage-deflate (a client that cannot inflate). */
const refusing: CheckedWebSocket[] = [];
class PlainWebSocket extends CheckedWebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: false });
    refusing.push(this);
  }
}

let cluster: EdgeCluster;
let shared: TestEdge;
let dedicated: TestEdge;
let http: Server;
let httpPort: number;
let browser: Browser | undefined;
const clients: OrderStreamClient[] = [];

beforeAll(async () => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build`);
  const bundle = readFileSync(BUNDLE);
  cluster = await startEdgeCluster();
  [shared, dedicated] = await Promise.all([
    cluster.startEdge("deflate-shared", { EDGE_COMPRESSION: "shared" }),
    cluster.startEdge("deflate-dedicated", { EDGE_COMPRESSION: "dedicated-4kb" }),
  ]);
  httpPort = await freePort();
  http = createServer((req, res) => {
    if (req.url?.startsWith("/orderstream-client.min.js")) res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    else if (req.url?.startsWith("/?")) res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => http.listen(httpPort, "127.0.0.1", r));
  // Node 24's test root (scripts/node24-root.sh) has no browser: the browser cases skip there.
  if (CHROMIUM_PATH) browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await browser?.close();
  await new Promise((r) => (http ? http.close(r) : r(undefined)));
  await cluster?.stop();
  expect(clientFrameProblems).toEqual([]);
});

/** Creates `n` orders with three line items each; returns their ids. */
async function createOrders(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await cluster.store.create({
      userId: "u1",
      items: [
        { productId: `sku-${i}-blk-m`, quantity: 1, price: 19.99 },
        { productId: `sku-${i}-wht-l`, quantity: 2, price: 7.5 },
        { productId: `sku-${i}-red-s`, quantity: 1, price: 129 },
      ],
    });
    ids.push(r.order.id);
  }
  return ids;
}

describe("the SDK against an edge with EDGE_COMPRESSION on", () => {
  it("Node (ws): a client offering permessage-deflate and one that does not both receive every event in order", async () => {
    const start = (WebSocket: typeof CheckedWebSocket) => {
      const client = new OrderStreamClient({ url: shared.url, WebSocket, token: signToken({ sub: "node-user" }) });
      clients.push(client);
      const got: OrderEvent[] = [];
      let subscribed = 0;
      client.on("subscribed", () => subscribed++);
      client.subscribe("orders.created", (e) => got.push(e));
      client.connect();
      return { got, subscribed: () => subscribed };
    };
    const deflating = start(OfferingWebSocket);
    const plain = start(PlainWebSocket);
    await waitUntil(() => deflating.subscribed() === 1 && plain.subscribed() === 1, "both subscribed");
    expect(offering[0]?.extensions).toBe("permessage-deflate");
    expect(refusing[0]?.extensions).toBe("");
    const ids = await createOrders(10);
    await waitUntil(() => deflating.got.length >= 10 && plain.got.length >= 10, "10 events each");
    expect(deflating.got.map((e) => e.data.id)).toEqual(ids);
    expect(deflating.got).toEqual(plain.got);
    expect(deflating.got[0]?.data.items).toHaveLength(3);
  });

  it.skipIf(!CHROMIUM_PATH).each([
    ["shared", "permessage-deflate; client_no_context_takeover; server_no_context_takeover"],
    ["dedicated-4kb", "permessage-deflate; client_no_context_takeover; server_max_window_bits=9"],
  ])("headless Chromium (script-tag build): negotiates deflate with a %s compressor and receives every event", async (mode, extensions) => {
    const edge = mode === "shared" ? shared : dedicated;
    const page = await (browser as Browser).newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${httpPort}/?ws=${encodeURIComponent(edge.url)}#token=${signToken({ sub: "browser-user" })}`);
    await page.waitForFunction(() => (window as unknown as { seen?: { subscribed: number } }).seen?.subscribed === 1, undefined, {
      timeout: 10_000,
    });
    expect(await page.evaluate(() => (window as unknown as { sockets: WebSocket[] }).sockets.map((s) => s.extensions))).toEqual([
      extensions,
    ]);
    const ids = await createOrders(5);
    await page.waitForFunction(() => (window as unknown as { seen: { received: unknown[] } }).seen.received.length >= 5, undefined, {
      timeout: 10_000,
    });
    const seen = (await page.evaluate(() => (window as unknown as { seen: unknown }).seen)) as {
      received: { id: string; items: number }[];
      errors: string[];
    };
    expect(seen.received).toEqual(ids.map((id) => ({ id, items: 3 })));
    expect(seen.errors).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
