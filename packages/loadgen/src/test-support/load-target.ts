// What the load tool's integration tests run against and how they run the CLI: one real cluster
// (redis-server, order-api, a processor, an edge) as child processes, and `dist/cli.js` as a
// child process of its own.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type ServiceProcess, startRedis, startService, type TestRedis } from "@orderstream/testkit";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
/** The built CLI (`npm run build` first). */
export const CLI = join(root, "packages/loadgen/dist/cli.js");
const entry = (svc: string): string => join(root, `services/${svc}/dist/main.js`);

/** A running cluster to load, with a temporary folder for results. */
export interface LoadTarget {
  redis: TestRedis;
  /** order-api's host:port. */
  grpc: string;
  wsUrl: string;
  dir: string;
  /** Starts one more service on the same Redis (stopped with the rest). */
  start(name: string, env: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** Starts Redis, order-api, a processor (no ship delay) and an edge (HS256 secret "test", anonymous all-orders on). */
export async function startLoadTarget(tmpPrefix: string): Promise<LoadTarget> {
  const dir = await mkdtemp(join(tmpdir(), tmpPrefix));
  const redis = await startRedis();
  const services: ServiceProcess[] = [];
  const start = async (name: string, env: Record<string, string>): Promise<ServiceProcess> => {
    const s = startService(entry(name), { REDIS_URL: redis.url, LOG_LEVEL: "info", ...env }, name);
    services.push(s);
    await s.waitFor(/"msg":"ready"/, 30_000);
    return s;
  };
  const grpcPort = await freePort();
  const grpc = `127.0.0.1:${grpcPort}`;
  await start("order-api", { GRPC_HOST: "127.0.0.1", GRPC_PORT: String(grpcPort), METRICS_PORT: "0" });
  await start("processor", { HEALTH_PORT: String(await freePort()), SHIP_DELAY_MS: "0" });
  const edgePort = await freePort();
  await start("edge", {
    EDGE_HOST: "127.0.0.1",
    EDGE_PORT: String(edgePort),
    ORDER_API_URL: grpc,
    AUTH_JWT_SECRET: "test",
    ANONYMOUS_ALL_ORDERS: "true",
  });
  return {
    redis,
    grpc,
    wsUrl: `ws://127.0.0.1:${edgePort}/ws`,
    dir,
    start,
    async stop() {
      for (const s of services.reverse()) await s.stop();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** How a CLI run ended. */
export interface CliExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `orderstream-load` with `args` (killed after 50 s); `onStderr` sees the stderr so far. */
export function runCli(args: string[], opts: { env?: Record<string, string>; onStderr?: (text: string) => void } = {}): Promise<CliExit> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    p.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      opts.onStderr?.(stderr);
    });
    const t = setTimeout(() => p.kill("SIGKILL"), 50_000);
    p.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
