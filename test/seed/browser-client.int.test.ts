import { CHROMIUM_ARGS, chromiumPath, type LocalCluster, freePort, startLocalCluster } from "@orderstream/testkit";
import { readFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, chromium } from "playwright-core";
import { OrderStore, closeRedis, createRedis, waitReady, type RedisConnection } from "@orderstream/bus";


let cluster: LocalCluster;
let cmd: RedisConnection;
let server: Server;
let pagePort: number;
let browser: Browser;

function page(edgePort: number): string {
  const article = readFileSync(join(import.meta.dirname, "browser_client.js"), "utf8");
  return `<!doctype html><html><body><script>
window.seen = { created: [], status: [], errors: [], reconnects: [] };
function displayNewOrder(o) { seen.created.push(o); }
function updateOrderStatus(o) { seen.status.push(o); }
function handleError(e) { seen.errors.push(e); }
function scheduleReconnect(code) { seen.reconnects.push(code); }
const PageWebSocket = window.WebSocket;
window.WebSocket = class extends PageWebSocket {
  constructor(url, p) {
    super(url.replace("wss://api.example.com", "ws://127.0.0.1:${edgePort}"), p);
    this.addEventListener("message", (e) => { if (JSON.parse(e.data).type === "subscribed") window.subscribed = true; });
  }
};
</script><script>${article}
window.processOrder = processOrder;
</script></body></html>`;
}

beforeAll(async () => {
  cluster = await startLocalCluster({ edges: 1, processors: 0, api: false });
  cmd = createRedis(cluster.redis.url, { role: "command", name: "seed-browser-test" });
  await waitReady(cmd);
  const edgePort = cluster.edges[0]?.port ?? 0;
  pagePort = await freePort();
  server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(page(edgePort)));
  await new Promise<void>((r) => server.listen(pagePort, "127.0.0.1", r));
  browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (cmd) await closeRedis(cmd);
  await cluster?.stop();
});

describe("the origin article's browser client", () => {
  it("runs unchanged: it subscribes, sees new orders and status changes, and gets error frames", async () => {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${pagePort}/`);
    // The subscription is confirmed by the edge before events are produced.
    await tab.waitForFunction(() => (window as unknown as { subscribed?: boolean }).subscribed === true);
    const store = new OrderStore(cmd);
    const { order } = await store.create({ userId: "alice", items: [{ productId: "sku", quantity: 2, price: 5 }] });
    await store.transition(order.id, "confirm");
    await tab.waitForFunction(() => (window as unknown as { seen: { status: unknown[] } }).seen.status.length >= 1);
    const seen = await tab.evaluate(() => (window as unknown as { seen: Record<string, unknown[]> }).seen);
    expect(seen["created"]).toEqual([expect.objectContaining({ id: order.id, userId: "alice", status: "PENDING", total: 10 })]);
    expect(seen["status"]).toEqual([expect.objectContaining({ id: order.id, status: "CONFIRMED" })]);
    // An anonymous page may watch but not act on orders: the edge answers with an error frame.
    await tab.evaluate((id) => (window as unknown as { processOrder(id: string): void }).processOrder(id), order.id);
    await tab.waitForFunction(() => (window as unknown as { seen: { errors: unknown[] } }).seen.errors.length >= 1);
    const errors = await tab.evaluate(() => (window as unknown as { seen: { errors: unknown[] } }).seen.errors);
    expect(errors[0]).toMatchObject({ code: "forbidden" });
    expect(seen["reconnects"]).toEqual([]);
    await tab.close();
  });
});
