// `docker compose up` for real: docker-compose.yml (with the low-limits override) in the engine
// that scripts/docker-engine.sh started, from images built here without a registry (npm run
// test:compose does all of it). Everything is checked from outside through the two published
// loopback ports, then faults between containers. Figures: bench/results/compose-last.json.
import { freePort, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../fault/fault-scale.js";
import { ClusterLoad } from "./cluster-load.js";
import { killEdge, cutEdgeOff, pauseRedis, stopProcessors } from "./compose-faults.js";
import { ComposeProject } from "./compose-project.js";
import { recordFigures } from "./compose-report.js";
import { coldStarts, engineFacts, imageFacts, memoryByContainer } from "./container-facts.js";
import type { Checkpoint } from "./cluster-load.js";
import { runPythonClients } from "./python-client.js";

const IMAGE = process.env.ORDERSTREAM_IMAGE || "orderstream:compose";
const USERS = Array.from({ length: 12 }, (_, i) => `compose-user-${i}`);
/** redis, order-api, 2 processors, 3 edges, the load balancer. */
const CONTAINERS = 8;

let project: ComposeProject;
let lbPort: number;
let apiPort: number;
let load: ClusterLoad | undefined;
const figures: Record<string, unknown> = {};
const faults: Record<string, unknown> = {};
let failed = false;

const wsUrl = (): string => `ws://127.0.0.1:${lbPort}/ws`;
const losses = (c: Checkpoint) => ({
  orders: c.orders,
  eventsExpected: c.eventsExpected,
  eventsLost: c.missing,
  duplicates: c.duplicates,
  outOfOrder: c.outOfOrder,
  notDelivered: c.notDelivered,
  settleMs: c.settleMs,
});
const expectNothingLost = (c: Checkpoint): void => {
  expect({
    missing: c.missing,
    duplicates: c.duplicates,
    outOfOrder: c.outOfOrder,
    notDelivered: c.notDelivered,
    examples: c.examples,
  }).toEqual({
    missing: 0,
    duplicates: 0,
    outOfOrder: 0,
    notDelivered: 0,
    examples: [],
  });
  expect(c.orders).toBeGreaterThan(0);
};

beforeAll(async () => {
  lbPort = await freePort();
  apiPort = await freePort();
  // Published on 127.0.0.1 only: "host:port" in the compose file's published-port variables.
  project = new ComposeProject("orderstream-compose", ["docker-compose.yml", "k8s/compose/docker-compose.low-limits.yml"], {
    ORDERSTREAM_IMAGE: IMAGE,
    EDGE_PUBLISHED_PORT: `127.0.0.1:${lbPort}`,
    ORDER_API_PUBLISHED_PORT: `127.0.0.1:${apiPort}`,
  });
  await project.down().catch(() => undefined);
  Object.assign(figures, await engineFacts(), {
    images: await Promise.all([IMAGE, "node:24-trixie-slim", "redis:7", "haproxy:2.8"].map(imageFacts)),
  });
  const start = Date.now();
  await project.up();
  const containers = await project.waitHealthy(CONTAINERS, 180_000);
  await waitUntil(
    async () => (await fetch(`http://127.0.0.1:${lbPort}/readyz`).catch(() => undefined))?.status === 200,
    "the balancer routes /readyz",
    60_000,
    250,
  );
  figures.timeToHealthyMs = Date.now() - start;
  figures.coldStartMs = await coldStarts(containers.filter((c) => ["order-api", "processor", "edge"].includes(c.service)));
  await sleep(3_000);
  figures.idleMemoryMB = await memoryByContainer(containers.map((c) => c.name));
}, 400_000);

afterAll(async () => {
  await load?.stop();
  if (failed) console.error(await project.logs(30));
  const restarts = Object.fromEntries((await project.containers().catch(() => [])).map((c) => [c.name, c.restartCount]));
  await project.down();
  recordFigures("compose", { ...figures, restarts, faults });
}, 300_000);

/** Runs a test body, noting a failure so afterAll prints the containers' logs. */
const step = (fn: () => Promise<void>) => async () => {
  try {
    await fn();
  } catch (err) {
    failed = true;
    throw err;
  }
};

describe("docker-compose.yml in containers, checked from outside", () => {
  it(
    "every service is healthy and the published ports answer: the article's Python client, the dashboard",
    step(async () => {
      const py = runPythonClients(`127.0.0.1:${apiPort}`);
      expect(py.stderr).toBe("");
      expect(py.articleLines).toHaveLength(100);
      expect(py.articleLines[0]).toBe("Order ord-0: 0");
      const [created, answered, status, code] = py.createAndCancel;
      expect({ same: created === answered, status, code }).toEqual({ same: true, status: "CANCELLED", code: "-" });
      const dashboard = await fetch(`http://127.0.0.1:${lbPort}/`);
      expect(dashboard.status).toBe(200);
      expect(dashboard.headers.get("content-type")).toMatch(/text\/html/);
      expect((await fetch(`http://127.0.0.1:${lbPort}/lb-healthz`)).status).toBe(200);
      figures.outside = { python: { articleResults: py.articleLines.length, createdAndCancelled: created }, dashboard: dashboard.status };
    }),
    60_000,
  );

  it(
    "a WebSocket client behind the balancer receives every event of the orders created over gRPC",
    step(async () => {
      load = await ClusterLoad.start({ wsUrl: wsUrl(), grpcPort: apiPort, sockets: 30, users: USERS, callers: 2, pauseMs: 60 });
      await sleep(8_000);
      const c = await load.checkpoint();
      faults.baseline = losses(c);
      expectNothingLost(c);
    }),
    120_000,
  );

  it(
    "an edge container killed: its clients reconnect through the balancer to the others and resume, nothing lost",
    step(async () => {
      if (!load) throw new Error("no load");
      const r = await killEdge(project, load);
      faults.edgeKill = { ...r, check: losses(r.check) };
      expect(r.socketsOnIt).toBeGreaterThan(0);
      expect(r.clientsMoved).toBe(r.socketsOnIt);
      expectNothingLost(r.check);
    }),
    240_000,
  );

  it(
    "the processor containers stopped: jobs wait, then go on when they return; no order stranded",
    step(async () => {
      if (!load) throw new Error("no load");
      const r = await stopProcessors(project, load, 6_000);
      faults.processorStop = { ...r, check: losses(r.check) };
      expect(r.ordersWaiting).toBeGreaterThan(0);
      expect(r.advancedWhileStopped).toBe(0);
      expectNothingLost(r.check);
    }),
    240_000,
  );

  it(
    "an edge cut off the network: its readiness drops, the balancer stops routing to it and its clients move; rejoined, it serves again",
    step(async () => {
      if (!load) throw new Error("no load");
      const r = await cutEdgeOff(project, load, wsUrl(), 25_000);
      faults.edgeNetworkCut = { ...r, check: losses(r.check) };
      expect(r.socketsOnIt).toBeGreaterThan(0);
      expect(r.clientsMoved).toBeGreaterThanOrEqual(r.socketsOnIt);
      expect(r.newSocketsDuringCut).toBe(6);
      expectNothingLost(r.check);
    }),
    300_000,
  );

  it(
    "the Redis container paused past the command timeout: calls answer UNAVAILABLE without hanging, then recover",
    step(async () => {
      if (!load) throw new Error("no load");
      const r = await pauseRedis(project, load, apiPort, 6_000);
      faults.redisPause = { ...r, check: losses(r.check) };
      expect(r.probes).toBeGreaterThan(0);
      expect(r.probeCodes).toEqual([14]);
      expect(r.slowestProbeMs).toBeLessThan(5_000);
      expect(Object.keys(r.callerFailuresByCode).filter((code) => code !== "14")).toEqual([]);
      expectNothingLost(r.check);
    }),
    240_000,
  );
});
