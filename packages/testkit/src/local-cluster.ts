import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.js";
import type { Cluster, Redis } from "ioredis";
import { type TestRedisCluster, startRedisCluster } from "./redis-cluster.js";
import { type TestRedis, startRedis } from "./redis-server.js";
import { type TestRedisSentinel, startRedisSentinel } from "./redis-sentinel.js";
import { type ServiceProcess, startService } from "./service-process.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../../..");

/** The built entry point of a service. */
export function serviceEntry(service: "order-api" | "processor" | "edge"): string {
  return join(ROOT, "services", service, "dist/main.js");
}

/** One edge node of a {@link LocalCluster}. */
export interface EdgeNode {
  port: number;
  url: string;
  proc: ServiceProcess;
  env: Record<string, string>;
}

/** A whole cluster as real child processes on one real redis-server, a real Redis Cluster or Sentinel. */
export interface LocalCluster {
  /** The redis-server of a single-node cluster (throws on a Redis Cluster: use redisCluster). */
  redis: TestRedis;
  /** The Redis Cluster, when started with `redis: "cluster"`. */
  redisCluster: TestRedisCluster | undefined;
  /** The primary, replica and sentinels, when started with `redis: "sentinel"`. */
  redisSentinel: TestRedisSentinel | undefined;
  /** REDIS_URL of every service. */
  redisUrl: string;
  /** A client for assertions (a Cluster client on a Redis Cluster, Sentinel-aware on Sentinel); closed by stop(). */
  redisClient(): Redis | Cluster;
  jwtSecret: string;
  apiPort: number;
  /** order-api's METRICS_PORT (/metrics, /healthz, /readyz). */
  apiMetricsPort: number;
  api: ServiceProcess | undefined;
  processors: ServiceProcess[];
  edges: EdgeNode[];
  /** Starts one more edge node (or restarts one on a given port). */
  addEdge(port?: number, env?: Record<string, string>): Promise<EdgeNode>;
  /** Starts one more processor. */
  addProcessor(env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** Options of {@link startLocalCluster}. */
export interface LocalClusterOptions {
  edges?: number;
  processors?: number;
  api?: boolean;
  /** One redis-server (default), a 3-master Redis Cluster with a replica each, or a primary, a replica and 3 sentinels. */
  redis?: "single" | "cluster" | "sentinel";
  /** The single redis-server writes an AOF kept across its stop()/start() (a restart that keeps the data). */
  appendonly?: boolean;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  edgeEnv?: Record<string, string>;
  processorEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
}

/** Starts redis-server, order-api, processors and edge nodes as child processes, each on a free port. */
export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const single = opts.redis === "cluster" || opts.redis === "sentinel" ? undefined : await startRedis([], { appendonly: opts.appendonly === true });
  const redisCluster = opts.redis === "cluster" ? await startRedisCluster() : undefined;
  const redisSentinel = opts.redis === "sentinel" ? await startRedisSentinel() : undefined;
  const redisUrl = single?.url ?? redisCluster?.url ?? redisSentinel?.url ?? "";
  const jwtSecret = "test-secret";
  const common = { REDIS_URL: redisUrl, LOG_LEVEL: "warn", ...opts.env };
  const apiPort = await freePort();
  const apiMetricsPort = await freePort();
  const all: ServiceProcess[] = [];
  const cluster: LocalCluster = {
    get redis(): TestRedis {
      if (!single) throw new Error(`this local cluster runs on Redis ${opts.redis}: use redisCluster / redisSentinel / redisClient()`);
      return single;
    },
    redisCluster,
    redisSentinel,
    redisUrl,
    redisClient: () => single?.client() ?? redisCluster?.client() ?? (redisSentinel as TestRedisSentinel).client(),
    jwtSecret,
    apiPort,
    apiMetricsPort,
    api: undefined,
    processors: [],
    edges: [],
    async addEdge(port, env = {}) {
      const p = port ?? (await freePort());
      const edgeEnv = {
        ...common,
        EDGE_HOST: "127.0.0.1",
        EDGE_PORT: String(p),
        NODE_ID: `edge-${p}`,
        ORDER_API_URL: `127.0.0.1:${apiPort}`,
        AUTH_JWT_SECRET: jwtSecret,
        ANONYMOUS_ALL_ORDERS: "true",
        DRAIN_WINDOW_MS: "1000",
        ...opts.edgeEnv,
        ...env,
      };
      const proc = startService(serviceEntry("edge"), { ...edgeEnv, LOG_LEVEL: "info" }, `edge:${p}`);
      all.push(proc);
      await proc.waitFor(/"msg":"ready"/);
      const node = { port: p, url: `ws://127.0.0.1:${p}/ws`, proc, env: edgeEnv };
      cluster.edges.push(node);
      return node;
    },
    async addProcessor(env = {}) {
      const proc = startService(
        serviceEntry("processor"),
        { ...common, LOG_LEVEL: "info", HEALTH_PORT: String(await freePort()), ...opts.processorEnv, ...env },
        "processor",
      );
      all.push(proc);
      await proc.waitFor(/"msg":"ready"/);
      cluster.processors.push(proc);
      return proc;
    },
    async stop() {
      await Promise.all(all.map((p) => p.stop("SIGTERM", 5000)));
      await single?.stop();
      await redisCluster?.stop();
      await redisSentinel?.stop();
    },
  };
  try {
    if (opts.api !== false) {
      cluster.api = startService(
        serviceEntry("order-api"),
        { ...common, LOG_LEVEL: "info", GRPC_HOST: "127.0.0.1", GRPC_PORT: String(apiPort), METRICS_PORT: String(apiMetricsPort), ...opts.apiEnv },
        "order-api",
      );
      all.push(cluster.api);
      await cluster.api.waitFor(/"msg":"ready"/);
    }
    for (let i = 0; i < (opts.processors ?? 1); i++) await cluster.addProcessor();
    for (let i = 0; i < (opts.edges ?? 1); i++) await cluster.addEdge();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
