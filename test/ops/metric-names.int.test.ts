import { type LocalCluster, freePort, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrder, orderClient, orderRequest } from "../fault/grpc-orders.js";
import { listedMetrics } from "./metric-list.js";

// One local cluster (child processes on a real redis-server): order-api, a processor, and an edge
// running EDGE_WORKERS=2 so the supervisor's aggregated /metrics is what gets scraped.
let cluster: LocalCluster;
let healthPort = 0;
let edgePort = 0;

beforeAll(async () => {
  cluster = await startLocalCluster({ processors: 0, edges: 0, processorEnv: { QUEUE_SAMPLE_INTERVAL_MS: "200", SHIP_DELAY_MS: "0" } });
  healthPort = await freePort();
  await cluster.addProcessor({ HEALTH_PORT: String(healthPort) });
  edgePort = (await cluster.addEdge(undefined, { EDGE_WORKERS: "2", NODE_ID: "grp" })).port;
  const client = orderClient(cluster.apiPort);
  try {
    await createOrder(client, orderRequest("metrics-user"));
  } finally {
    client.close();
  }
});

afterAll(async () => {
  await cluster?.stop();
});

const scrape = async (port: number): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};

/** The metric names and types a scrape declares (`# TYPE name type`). */
const declared = (text: string): Map<string, string> =>
  new Map([...text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)].map((m) => [m[1] as string, m[2] as string]));

const services = (): [string, number][] => [
  ["order-api", cluster.apiMetricsPort],
  ["processor", healthPort],
  ["edge", edgePort],
];

describe("metric names against docs/metrics.md", () => {
  it("every service exports exactly the listed orderstream_ metrics, with the listed types, and the standard ones unprefixed", async () => {
    const listed = listedMetrics();
    expect(listed.length).toBeGreaterThan(20);
    const seen = new Map<string, string>();
    for (const [svc, port] of services()) {
      const text = await scrape(port);
      const names = declared(text);
      const prefix = `orderstream_${svc.replace("-", "_")}_`;
      for (const [name, type] of names) {
        if (name === "orderstream_build_info") seen.set(name, type);
        else if (name.startsWith("orderstream_")) expect(name.startsWith(prefix), `${svc} exports ${name}`).toBe(true);
        else expect(name, `${svc}: ${name} is neither orderstream_ nor a standard metric`).toMatch(/^(process|nodejs)_/);
        seen.set(name, type);
      }
      expect(names.get("process_cpu_seconds_total"), `${svc} process_cpu_seconds_total`).toBe("counter");
      expect(names.has("nodejs_eventloop_lag_seconds"), `${svc} nodejs_eventloop_lag_seconds`).toBe(true);
      for (const [name, type] of names) if (type === "counter") expect(name, `${svc} counter ${name}`).toMatch(/_total$/);
    }
    const unlisted = [...seen.keys()].filter((n) => n.startsWith("orderstream_") && !listed.some((m) => m.name === n));
    expect(unlisted, "exported but not in docs/metrics.md").toEqual([]);
    const missing = listed.filter((m) => !seen.has(m.name)).map((m) => m.name);
    expect(missing, "listed in docs/metrics.md but exported by no service").toEqual([]);
    for (const m of listed) expect(seen.get(m.name), `type of ${m.name}`).toBe(m.type);
  });

  it("carries the samples the dashboards read: RPCs by method and code, queue depth per partition, one edge series per worker", async () => {
    const api = await scrape(cluster.apiMetricsPort);
    expect(api).toMatch(/^orderstream_order_api_rpcs_total\{method="CreateOrder",code="OK"\} 1$/m);
    expect(api).toMatch(/^orderstream_order_api_rpc_duration_seconds_bucket\{le="\+Inf",method="CreateOrder",code="OK"\} 1$/m);
    expect(api).toMatch(/^orderstream_order_api_redis_up 1$/m);
    await waitUntil(async () => /^orderstream_processor_queue_jobs\{partition="11",state="waiting"\} \d+$/m.test(await scrape(healthPort)), "queue depth sampled");
    const processor = await scrape(healthPort);
    expect(processor).toMatch(/^orderstream_processor_queue_jobs\{partition="0",state="failed"\} 0$/m);
    expect(processor).toMatch(/^orderstream_processor_redis_up 1$/m);
    const edge = await scrape(edgePort);
    expect([...edge.matchAll(/^orderstream_edge_connections\{node="(grp-w\d)"\} \d+$/gm)].map((m) => m[1]).sort()).toEqual(["grp-w0", "grp-w1"]);
  });

  it("carries the build info in every service, the edge's connection limit, overdue orders and Redis memory", async () => {
    const version = (await import("../../package.json", { with: { type: "json" } })).default.version;
    for (const [svc, port] of services()) {
      const text = await scrape(port);
      const info = [...text.matchAll(/^orderstream_build_info\{([^}]*)\} 1$/gm)].map((m) => m[1] as string);
      expect(info.length, `${svc} build info`).toBeGreaterThan(0);
      for (const labels of info) {
        expect(labels, svc).toContain(`service="${svc}"`);
        expect(labels, svc).toContain(`version="${version}"`);
        expect(labels, svc).toMatch(/commit="[0-9a-f]{7,12}"/);
        expect(labels, svc).toContain(`nodejs="${process.version}"`);
      }
    }
    const edge = await scrape(edgePort);
    expect([...edge.matchAll(/^orderstream_edge_max_connections\{node="grp-w\d"\} (\d+)$/gm)].map((m) => Number(m[1]) > 0)).toEqual([true, true]);
    await waitUntil(async () => /^orderstream_processor_overdue_orders\{partition="11"\} 0$/m.test(await scrape(healthPort)), "overdue orders sampled");
    const processor = await scrape(healthPort);
    expect(processor).toMatch(/^orderstream_processor_redis_memory_used_bytes\{redis="[^"]+"\} [1-9]\d*$/m);
    expect(processor).toMatch(/^orderstream_processor_redis_memory_max_bytes\{redis="[^"]+"\} \d+$/m);
  });

  it("answers /healthz and /readyz with the same JSON shape in every service", async () => {
    for (const [svc, port] of services()) {
      const live = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(live.status, svc).toBe(200);
      expect(await live.json(), svc).toEqual({ status: "ok" });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status, svc).toBe(200);
      const body = (await ready.json()) as { status: string; checks: Record<string, boolean> };
      expect(Object.keys(body).sort(), svc).toEqual(["checks", "status"]);
      expect(body.status, svc).toBe("ready");
      expect(Object.values(body.checks).length, svc).toBeGreaterThan(0);
      expect(Object.values(body.checks).every((v) => v === true), svc).toBe(true);
    }
  });
});
