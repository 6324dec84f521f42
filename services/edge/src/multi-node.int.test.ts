import { type RedisConnection, OrderStore, closeRedis, createRedis, waitReady } from "@orderstream/bus";
import { type TestRedis, startRedis, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "./test-support/edge-env.js";
import { type EdgeProcess, startEdgeProcess } from "./test-support/edge-process.js";
import { type Frame, type TestClient, connect, makeToken, orderRequest, subscribeAndWait } from "./test-support/ws-client.js";

let redis: TestRedis;
let cmd: RedisConnection;
const nodes: EdgeProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cmd = createRedis(redis.url, { role: "command", name: "test" });
  await waitReady(cmd);
  nodes.push(...(await Promise.all([startEdgeProcess(redis.url, { NODE_ID: "n1" }), startEdgeProcess(redis.url, { NODE_ID: "n2" })])));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.svc.stop("SIGKILL")));
  if (cmd) await closeRedis(cmd);
  await redis?.stop();
});

const summary = (f: Frame): string => {
  const d = f["data"] as { id: string; status: string };
  return `${f.type}:${d.id}:${d.status}`;
};

/** Offsets of one channel's frames must go up by exactly one. */
function expectConsecutive(frames: Frame[]): void {
  const seqs = frames.map((f) => Number(String(f["offset"]).split(":")[1]));
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] as number) + 1);
}

describe("two edge nodes as child processes", () => {
  it("deliver every event of the subscribed channels exactly once and in order, and nothing else", async () => {
    const [n1, n2] = nodes as [EdgeProcess, EdgeProcess];
    const alice = await makeToken(TEST_SECRET, "alice");
    const bob = await makeToken(TEST_SECRET, "bob");
    const c1 = await connect(n1.url); // all created
    const c2 = await connect(`${n1.url}?token=${alice}`); // alice's orders
    const c3 = await connect(n2.url); // all status + all created
    const c4 = await connect(n2.url, { authorization: `Bearer ${bob}` }); // bob's orders
    clients.push(c1, c2, c3, c4);
    expect(await subscribeAndWait(c1, ["orders.created"])).toMatchObject({ type: "subscribed" });
    expect(await subscribeAndWait(c2, ["orders.user.alice"])).toMatchObject({ type: "subscribed" });
    expect(await subscribeAndWait(c3, ["orders.status", "orders.created"])).toMatchObject({ type: "subscribed" });
    expect(await subscribeAndWait(c4, ["orders.user.bob"])).toMatchObject({ type: "subscribed" });

    const store = new OrderStore(cmd);
    const expected: { channel: string[]; frame: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const user = i % 3 === 0 ? "bob" : i % 3 === 1 ? "alice" : "carol";
      const { order } = await store.create(orderRequest(user, i + 1));
      expected.push({ channel: ["orders.created", `orders.user.${user}`], frame: `order.created:${order.id}:PENDING` });
      for (const [action, status] of [["confirm", "CONFIRMED"], ["process", "PROCESSING"]] as const) {
        const r = await store.transition(order.id, action);
        expect(r.ok).toBe(true);
        expected.push({ channel: ["orders.status", `orders.user.${user}`], frame: `order.status:${order.id}:${status}` });
      }
    }
    const want = (channels: string[]): string[] =>
      expected.filter((e) => e.channel.some((c) => channels.includes(c))).map((e) => e.frame);
    const plan: [TestClient, string[]][] = [
      [c1, ["orders.created"]],
      [c2, ["orders.user.alice"]],
      [c3, ["orders.status", "orders.created"]],
      [c4, ["orders.user.bob"]],
    ];
    await waitUntil(() => plan.every(([c, chs]) => c.events().length >= want(chs).length), "all events delivered", 10_000);
    await new Promise((r) => setTimeout(r, 200)); // anything extra (a duplicate) would show up now
    for (const [c, chs] of plan) {
      expect(c.events().map(summary)).toEqual(want(chs));
      expect(c.events().every((f) => chs.includes(String(f["channel"])))).toBe(true);
      for (const ch of chs) expectConsecutive(c.events(ch));
    }
  });
});
