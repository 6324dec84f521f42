import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_INDEX_KEY, nodeKey } from "../layout/keys.js";
import { type RedisConnection, closeRedis, createRedis, waitReady } from "../runtime/redis-connection.js";
import { type BusFixture, TOPOLOGIES, busFixture } from "../testing/bus-fixture.js";
import { ControlChannel } from "./control-channel.js";
import { NODE_TTL_MS, NodeHeartbeat, listNodes } from "./node-registry.js";

// The node registry and the edges' control channel, on one Redis node and on a Redis Cluster
// (where every key and channel of each shares one slot).
describe.each(TOPOLOGIES)("node registry and control channel on %s Redis", (topology) => {
  let bus: BusFixture;
  const subs: RedisConnection[] = [];
  const errors: unknown[] = [];
  const onError = (err: unknown): void => void errors.push(err);

  beforeAll(async () => {
    bus = await busFixture(topology);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(subs.map((s) => closeRedis(s)));
    await bus?.close();
  });

  it("lists each heartbeating node with its version and figures, with a TTL, and forgets a stopped one at once", async () => {
    let sockets = 3;
    const edge = new NodeHeartbeat(bus.cmd, { service: "edge", node: "edge-a", stats: () => ({ sockets, channels: 1 }), onError });
    const proc = new NodeHeartbeat(bus.cmd, { service: "processor", stats: () => ({ waiting: 0, active: 1, delayed: 2 }), onError });
    edge.start();
    proc.start();
    await Promise.all([edge.beat(), proc.beat()]);
    let nodes = await listNodes(bus.cmd);
    expect(nodes.map((n) => [n.service, n.node])).toEqual([
      ["edge", "edge-a"],
      ["processor", proc.node],
    ]);
    expect(nodes[0]).toMatchObject({ pid: process.pid, stats: { sockets: 3, channels: 1 } });
    expect(nodes[0]?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(nodes[0]?.commit).toBeTruthy();
    const ttl = await bus.cmd.pttl(nodeKey("edge", "edge-a"));
    expect(ttl).toBeGreaterThan(NODE_TTL_MS - 2000);
    expect(ttl).toBeLessThanOrEqual(NODE_TTL_MS);
    sockets = 4;
    await edge.beat();
    expect((await listNodes(bus.cmd))[0]?.stats).toEqual({ sockets: 4, channels: 1 });
    await proc.stop();
    nodes = await listNodes(bus.cmd);
    expect(nodes.map((n) => n.node)).toEqual(["edge-a"]);
    // A node that died without stop(): its entry expires, and the reader drops it from the index.
    await edge.stop();
    const ghost = new NodeHeartbeat(bus.cmd, { service: "order-api", node: "ghost", stats: () => ({}), onError });
    await ghost.beat();
    await bus.cmd.pexpire(nodeKey("order-api", "ghost"), 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await listNodes(bus.cmd)).toEqual([]);
    expect(await bus.cmd.smembers(NODE_INDEX_KEY)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("a control request reaches every node, and the requester collects every reply before the window ends", async () => {
    const sharded = topology === "cluster";
    const channels: ControlChannel[] = [];
    for (const name of ["n1", "n2", "n3"]) {
      const sub = createRedis(bus.url, { role: "subscriber", name: `ctl-${name}` });
      subs.push(sub);
      await waitReady(sub);
      const ch = new ControlChannel(sub, bus.cmd, { sharded, onError });
      await ch.start((kind, args) => ({ node: name, kind, user: args["user"] }));
      channels.push(ch);
    }
    const t0 = Date.now();
    const out = await channels[0]!.request<{ node: string; kind: string; user: string }>("user_sockets", { user: "alice" }, 5000);
    expect(Date.now() - t0).toBeLessThan(2000); // every receiver answered: no waiting for the window
    expect(out.receivers).toBe(3);
    expect(out.replies.map((r) => r.node).sort()).toEqual(["n1", "n2", "n3"]);
    expect(out.replies.every((r) => r.kind === "user_sockets" && r.user === "alice")).toBe(true);
    await channels[2]!.stop();
    const after = await channels[1]!.request<{ node: string }>("ping", {}, 5000);
    expect(after.replies.map((r) => r.node).sort()).toEqual(["n1", "n2"]);
    for (const ch of channels) await ch.stop();
    expect(errors).toEqual([]);
  });
});
