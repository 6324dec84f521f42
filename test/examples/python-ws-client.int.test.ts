import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { OrderServiceClient } from "@orderstream/proto";
import { type LocalCluster, signToken, startLocalCluster } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrder, orderClient, orderRequest } from "../fault/grpc-orders.js";

// examples/python-client, written from docs/protocol.md alone, against a live local cluster
// (order-api, an edge with anonymous access off, no processor so only the created events flow).
const root = resolve(import.meta.dirname, "../..");
const script = join(root, "examples/python-client/orderstream_client.py");
const python = "/usr/bin/python3";

let cluster: LocalCluster;
let grpc: OrderServiceClient;
let dir: string;

beforeAll(async () => {
  cluster = await startLocalCluster({ edges: 1, processors: 0, edgeEnv: { ANONYMOUS_ALL_ORDERS: "false" } });
  grpc = orderClient(cluster.apiPort);
  dir = mkdtempSync(join(tmpdir(), "orderstream-pyws-"));
}, 120_000);

afterAll(async () => {
  grpc?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the client until it printed `count` events (the orders are created once it subscribed). */
async function run(args: string[], makeOrders: () => Promise<void> = async () => undefined) {
  const { spawn } = await import("node:child_process");
  const child = spawn(python, [script, "--url", cluster.edges[0]?.url ?? "", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let made = false;
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (!made && out.includes("SUBSCRIBED")) {
      made = true;
      void makeOrders();
    }
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill(), 20_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, lines: out.trim().split("\n"), err };
}

describe("the Python WebSocket client from docs/protocol.md", () => {
  it("has its dependency installed", () => {
    expect(spawnSync(python, ["-c", "import websockets"]).status).toBe(0);
  });

  it("connects with a token, prints events, and resumes from its offsets with exactly the missed events", async () => {
    const user = "py-ws-user";
    const token = signToken(cluster.jwtSecret, { sub: user });
    const offsets = join(dir, "offsets.json");
    const args = ["--token", token, "--offsets", offsets, "--count", "2", `orders.user.${user}`];
    const first: string[] = [];
    const a = await run(args, async () => {
      for (let i = 0; i < 2; i++) first.push((await createOrder(grpc, orderRequest(user))).id);
    });
    expect(a.err).toBe("");
    expect(a.code).toBe(0);
    expect(a.lines.slice(0, 2)).toEqual([`CONNECTED ${user}`, "SUBSCRIBED recovered=true"]);
    expect(a.lines.slice(2).map((l) => l.split(" ")[4])).toEqual(first);
    expect(
      a.lines
        .slice(2)
        .every((l) => l.startsWith(`EVENT orders.user.${user} `) && l.endsWith(" order.created " + l.split(" ")[4] + " PENDING")),
    ).toBe(true);

    // Two orders while the client is not running; a restart prints exactly those (replayed before
    // the subscribed reply), then a live one: nothing lost, nothing twice.
    const missed = [(await createOrder(grpc, orderRequest(user))).id, (await createOrder(grpc, orderRequest(user))).id];
    let live = "";
    const b = await run(["--token", token, "--offsets", offsets, "--count", "3", `orders.user.${user}`], async () => {
      live = (await createOrder(grpc, orderRequest(user))).id;
    });
    expect(b.err).toBe("");
    expect(b.code).toBe(0);
    expect(b.lines).toEqual([
      `CONNECTED ${user}`,
      expect.stringContaining(` ${missed[0]} PENDING`),
      expect.stringContaining(` ${missed[1]} PENDING`),
      "SUBSCRIBED recovered=true",
      expect.stringContaining(` ${live} PENDING`),
    ]);
    const saved = JSON.parse(readFileSync(offsets, "utf8")) as Record<string, string>;
    expect(saved[`orders.user.${user}`]).toBe(b.lines[4]?.split(" ")[2]);
  });

  it("stops with exit code 3 when the edge refuses its token (4001), instead of retrying", async () => {
    const r = await run(["--token", signToken("not-the-secret", { sub: "x" }), "orders.user.x"]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/4001 unauthorized/);
  });
});
