import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceProcess, type TestRedis, freePort, startRedis, startService } from "@orderstream/testkit";

const root = resolve(import.meta.dirname, "../..");
const python = "/usr/bin/python3";
const grpcTools = "/usr/lib/python3/dist-packages/grpc_tools/_proto";

let redis: TestRedis;
let api: ServiceProcess;
let port: number;
let stubs: string;

beforeAll(async () => {
  redis = await startRedis();
  port = await freePort();
  api = startService(join(root, "services/order-api/dist/main.js"), {
    REDIS_URL: redis.url,
    GRPC_PORT: String(port),
    GRPC_HOST: "127.0.0.1",
    METRICS_PORT: "0",
  }, "order-api");
  await api.waitFor(/"msg":"ready"/);
  stubs = mkdtempSync(join(tmpdir(), "orderstream-py-"));
  execFileSync(python, [
    "-m", "grpc_tools.protoc", `-I${join(root, "proto")}`, `-I${grpcTools}`,
    `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, join(root, "proto/order.proto"),
  ]);
});

afterAll(async () => {
  await api?.stop();
  await redis?.stop();
  if (stubs) rmSync(stubs, { recursive: true, force: true });
});

describe("the origin article's Python asyncio client", () => {
  it("runs unchanged: 100 actions on unknown orders, 100 results, the stream goes on", () => {
    expect(existsSync(grpcTools)).toBe(true);
    const run = spawnSync(python, [join(import.meta.dirname, "seed_client.py")], {
      env: { ...process.env, PYTHONPATH: stubs, ORDERSTREAM_TARGET: `127.0.0.1:${port}` },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(100);
    expect(lines[0]).toBe("Order ord-0: 0");
    expect(lines[99]).toBe("Order ord-99: 0");
  });
});
