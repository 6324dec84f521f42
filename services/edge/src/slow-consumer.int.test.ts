import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeProcess, startEdgeProcess } from "./test-support/edge-process.js";
import { type TestClient, connect, subscribeAndWait } from "./test-support/ws-client.js";

let redis: TestRedis;
let cmd: RedisConnection;
let node: EdgeProcess | undefined;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test", commandTimeoutMs: 15_000 });
  await waitReady(cmd);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await node?.svc.stop("SIGKILL");
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

async function slowMetric(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/orderstream_edge_slow_consumers_closed_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
}

/** A ~40 KB order (400 line items), so a few hundred events are tens of MB. */
const bigOrder = (i: number) => ({
  userId: "bulk",
  items: Array.from({ length: 400 }, (_, k) => ({ productId: `product-${i}-${k}-${"p".repeat(40)}`, quantity: 1, price: 1.25 })),
});

describe("slow consumer", () => {
  it("closes a socket that does not read with 4004 while the others get everything and RSS stays bounded", async () => {
    // Node 22+ lets V8's young generation grow past Node 20's 16 MB semi-spaces under this load
    // (~48 MB more RSS on Node 24, whatever the sockets hold): pin it to Node 20's size so RSS
    // measures what the node buffers for the paused socket.
    const nodeOptions = `${process.env["NODE_OPTIONS"] ?? ""} --max-semi-space-size=16`.trim();
    node = await startEdgeProcess(redis.url, { MAX_BACKPRESSURE_BYTES: String(256 * 1024), HISTORY_SIZE: "50", NODE_OPTIONS: nodeOptions });
    const fast = await Promise.all(Array.from({ length: 3 }, () => connect(node!.url)));
    const slow = await connect(node.url);
    clients.push(...fast, slow);
    for (const c of [...fast, slow]) expect(await subscribeAndWait(c, ["orders.created"])).toMatchObject({ type: "subscribed" });
    const store = new OrderStore(cmd);
    const step = 100;
    const publish = async (from: number, count: number, readers: TestClient[]): Promise<void> => {
      for (let i = from; i < from + count; i += step) {
        await store.createMany(Array.from({ length: step }, (_, k) => bigOrder(i + k)));
        await waitUntil(() => readers.every((c) => c.events().length >= i + step), "readers keep up", 30_000);
      }
    };
    // Warm-up with everyone reading, so the node's heap reaches its working size first.
    const warmup = 400;
    await publish(0, warmup, [...fast, slow]);
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    const rssBefore = rssKiB(node.svc.pid);

    // Resume reading as soon as the node gave up on the socket, to see the close frame it sent.
    let resumed = false;
    const watcher = (async () => {
      for (let i = 0; i < 600 && !resumed; i++) {
        if ((await slowMetric(node!.port).catch(() => 0)) >= 1) {
          (slow.ws as unknown as { _socket: Socket })._socket.resume();
          resumed = true;
        } else await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const total = 1600; // ~65 MB of frames, 48 MB of them while the slow socket is paused
    await publish(warmup, total - warmup, fast);
    await watcher;
    expect(resumed).toBe(true);
    expect(await slowMetric(node.port)).toBe(1);
    const rssAfter = rssKiB(node.svc.pid);

    for (const c of fast) {
      // The `<epoch>:<seq>` head of the composite offset: one more per event received.
      const seqs = c.events().map((f) => Number(/^[^:]*:(\d+)/.exec(String(f["offset"]))?.[1]));
      expect(seqs).toHaveLength(total);
      expect(new Set(seqs).size).toBe(total);
      expect(c.ws.readyState).toBe(c.ws.OPEN);
    }
    const { code } = await slow.closed;
    expect(code).toBe(4004);
    expect(slow.events().length).toBeLessThan(total);
    console.log(`node RSS before ${rssBefore} KiB, after ${rssAfter} KiB`);
    // Without the limit the paused socket alone would hold ~48 MB in the node.
    expect(rssAfter - rssBefore).toBeLessThan(24 * 1024);
  });
});
