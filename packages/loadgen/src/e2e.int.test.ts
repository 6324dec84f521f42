import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "./run-scenario.js";
import { type LoadTarget, runCli, startLoadTarget } from "./test-support/load-target.js";
import type { ScenarioOptions, ScenarioResult } from "./types.js";

let target: LoadTarget;
let grpc = "";
let wsUrl = "";
let dir = "";

beforeAll(async () => {
  target = await startLoadTarget("loadgen-e2e-");
  ({ grpc, wsUrl, dir } = target);
});

afterAll(async () => {
  await target?.stop();
});

function expectWellFormed(r: ScenarioResult, scenario: string): void {
  expect(r.scenario).toBe(scenario);
  expect(Number.isNaN(Date.parse(r.startedAt))).toBe(false);
  expect(r.durationMs).toBeGreaterThan(0);
  expect(r.params).not.toHaveProperty("jwtSecret", "test");
  for (const p of Object.values(r.latency)) {
    for (const k of ["p50", "p90", "p99", "p999", "max"] as const) expect(typeof p[k]).toBe("number");
    expect(p.p50).toBeLessThanOrEqual(p.p99);
    expect(p.p99).toBeLessThanOrEqual(p.max);
  }
  expect(r.throughput.length).toBeGreaterThan(0);
  r.throughput.forEach((pt, i) => expect(pt.t).toBe(i));
}

describe("orderstream-load against a real local cluster", () => {
  it("e2e: every order.created reaches every socket that should see it, JSON result well-formed", async () => {
    const json = join(dir, "e2e.json");
    const sockets = 60;
    const r = await runCli([
      "e2e", "--url", wsUrl, "--grpc", grpc, "--jwt-secret", "test", "--sockets", String(sockets),
      "--users", "10", "--rate", "40", "--duration", "2", "--settle", "2", "--json", json, "--quiet",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const result = JSON.parse(await readFile(json, "utf8")) as ScenarioResult;
    expectWellFormed(result, "e2e");
    expect(result.ok).toBe(true);
    expect(result.counts.connects).toBe(sockets);
    expect(result.counts.subscribed).toBe(sockets);
    expect(result.counts.ordersCreated).toBeGreaterThanOrEqual(40);
    // 30 all-orders sockets see every order; 30 user sockets over 10 users see their owner's (3 each)
    expect(result.delivery).toEqual({
      expected: result.counts.ordersCreated * 33,
      received: result.counts.ordersCreated * 33,
      missing: 0,
      duplicates: 0,
      lossRatio: 0,
    });
    expect(result.latency["delivery"]?.count).toBe(result.counts.ordersCreated * 33);
    expect(result.latency["rpc"]?.count).toBe(result.counts.ordersCreated);
    expect(r.stdout).toMatch(/delivery \d+\/\d+ received, missing 0/);
  });

  it("e2e spread over two forked worker processes merges their counts and histograms", async () => {
    const json = join(dir, "e2e-workers.json");
    const html = join(dir, "e2e-workers.html");
    const r = await runCli([
      "e2e", "--url", wsUrl, "--grpc", grpc, "--jwt-secret", "test", "--sockets", "40", "--workers", "2",
      "--rate", "30", "--duration", "1.5", "--settle", "2", "--json", json, "--html", html, "--quiet",
    ]);
    expect(r.code).toBe(0);
    const result = JSON.parse(await readFile(json, "utf8")) as ScenarioResult;
    expectWellFormed(result, "e2e");
    expect(result.workers).toBe(2);
    expect(result.counts.connects).toBe(40);
    expect(result.delivery?.missing).toBe(0);
    expect(result.delivery?.expected).toBeGreaterThan(0);
    expect(result.latency["delivery"]?.count).toBe(result.delivery?.received);
    expect(await readFile(html, "utf8")).toContain('data-plot="throughput"');
  });

  it("e2e exits 1 and reports the loss when an edge node dies mid-run", async () => {
    const port = await freePort();
    const doomed = await target.start("edge", {
      EDGE_HOST: "127.0.0.1",
      EDGE_PORT: String(port),
      ORDER_API_URL: grpc,
      AUTH_JWT_SECRET: "test",
      ANONYMOUS_ALL_ORDERS: "true",
    });
    const json = join(dir, "loss.json");
    let killed = false;
    const r = await runCli(
      ["e2e", "--url", `ws://127.0.0.1:${port}/ws,${wsUrl}`, "--grpc", grpc, "--jwt-secret", "test", "--sockets", "20",
        "--rate", "30", "--duration", "3", "--settle", "1", "--json", json],
      {
        onStderr: (stderr) => {
        // plain progress lines (stderr is not a TTY); kill once orders are being created
        if (!killed && /\] create .*req\/s [1-9]/.test(stderr)) {
          killed = true;
          void doomed.stop("SIGKILL");
        }
        },
      },
    );
    expect(killed).toBe(true);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: loss \d+\/\d+ .* exceeds --max-loss 0/);
    const result = JSON.parse(await readFile(json, "utf8")) as ScenarioResult;
    expect(result.ok).toBe(false);
    expect(result.delivery?.missing).toBeGreaterThan(0);
    expect(result.counts.closes["1006"]).toBe(10); // half the sockets were on the killed node
  });

  it("runScenario (library): the gRPC scenarios create, bulk-create and stream real orders", async () => {
    const base: ScenarioOptions = {
      scenario: "grpc-create", urls: [wsUrl], grpc, sockets: 1, streams: 4, channels: ["orders.created"], userRatio: 0.5,
      users: 10, rampPerS: 1000, durationS: 10, rate: 200, concurrency: 0, batch: 40, count: 60, settleS: 0, maxLoss: 0,
      workers: 0, localAddresses: "auto", socketsPerAddress: 25_000, minAvailableMiB: 2048, allowRemote: false,
    };
    const create = await runScenario(base);
    expectWellFormed(create, "grpc-create");
    expect(create.counts).toMatchObject({ requests: 60, ordersCreated: 60, requestErrors: {} });
    expect(create.latency["rpc"]?.count).toBe(60);

    const bulk = await runScenario({ ...base, scenario: "grpc-bulk", concurrency: 2, count: 200 });
    expectWellFormed(bulk, "grpc-bulk");
    expect(bulk.counts).toMatchObject({ requests: 5, ordersCreated: 200, requestErrors: {} });

    const sub = await runScenario({ ...base, scenario: "grpc-subscribe", durationS: 2, rate: 20, count: 0 });
    expectWellFormed(sub, "grpc-subscribe");
    expect(sub.counts.connects).toBe(4);
    expect(sub.counts.ordersCreated).toBeGreaterThan(10);
    // two all-orders streams see every new order; two user streams see their users' (PENDING events)
    expect(sub.latency["delivery"]?.count).toBeGreaterThanOrEqual(2 * (sub.counts.ordersCreated - 2));
    expect(sub.counts.errors).toEqual({});
  });

  it("runScenario (library): ws-subscribe from several source addresses measures publish-to-receive latency", async () => {
    const opts: ScenarioOptions = {
      scenario: "ws-subscribe", urls: [wsUrl], grpc, sockets: 20, streams: 1, channels: ["orders.created", "orders.status"],
      userRatio: 0, users: 10, rampPerS: 1000, durationS: 2, rate: 20, concurrency: 0, batch: 1, count: 0, settleS: 0,
      maxLoss: 0, workers: 0, localAddresses: ["127.0.0.2", "127.0.0.3"], socketsPerAddress: 10, minAvailableMiB: 0,
      allowRemote: false, jwtSecret: "test",
    };
    const result = await runScenario(opts);
    expectWellFormed(result, "ws-subscribe");
    expect(result.counts.connects).toBe(20);
    expect(result.counts.ordersCreated).toBeGreaterThan(0);
    expect(result.counts.messages).toBeGreaterThanOrEqual(result.counts.ordersCreated * 20 * 0.5);
    expect(result.latency["delivery"]?.count).toBeGreaterThan(0);
    expect(result.latency["connect"]?.count).toBe(20);
  });

  it("stops adding sockets when MemAvailable falls under --min-available-mib and says so", async () => {
    // A threshold above any machine's memory: the first check (after 1 s) holds the ramp there.
    const result = await runScenario({
      scenario: "ws-subscribe", urls: [wsUrl], grpc, sockets: 400, streams: 1, channels: ["orders.created"],
      userRatio: 0, users: 10, rampPerS: 50, durationS: 3, rate: 0, concurrency: 0, batch: 1, count: 0, settleS: 0,
      maxLoss: 0, workers: 0, localAddresses: "auto", socketsPerAddress: 25_000, minAvailableMiB: 1e9, allowRemote: false,
      jwtSecret: "test",
    });
    expect(result.warnings.join("\n")).toMatch(/stopped adding sockets at \d+ open: MemAvailable \d+ MiB fell under --min-available-mib 1000000000/);
    expect(result.counts.connects).toBeGreaterThan(0);
    expect(result.counts.connects).toBeLessThan(200);
  });
});
