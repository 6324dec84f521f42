import { execFile } from "node:child_process";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { health } from "@orderstream/proto";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/check-deploy.mjs";

const script = join(ROOT, "scripts/healthcheck.mjs");

interface Run {
  code: number;
  out: string;
}

/** Runs the image's health probe as the container runtime would, with `env` added. */
function probe(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: { ...process.env, ...env }, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** An HTTP server on 127.0.0.1 answering `status` on every path; returns its port and the paths asked. */
async function httpServer(status: number): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? "");
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, paths };
}

/** A real gRPC server with grpc.health.v1 answering `status`; returns its port. */
async function grpcHealthServer(status: health.HealthCheckResponse_ServingStatus): Promise<number> {
  const server = new grpc.Server();
  server.addService(health.HealthService, {
    check: (_call: unknown, cb: grpc.sendUnaryData<health.HealthCheckResponse>) => cb(null, { status }),
    list: (_call: unknown, cb: grpc.sendUnaryData<health.HealthListResponse>) => cb(null, { statuses: {} }),
    watch: (call: grpc.ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>) => call.end(),
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  cleanups.push(() => new Promise((r) => server.tryShutdown(() => r())));
  return port;
}

describe("scripts/healthcheck.mjs", () => {
  it("edge: healthy when GET /healthz on EDGE_PORT answers 200", async () => {
    const s = await httpServer(200);
    const r = await probe(["edge"], { EDGE_PORT: String(s.port), EDGE_HOST: "0.0.0.0" });
    expect(r.code, r.out).toBe(0);
    expect(s.paths).toEqual(["/healthz"]);
  });

  it("edge: unhealthy on a non-200 answer and when nothing listens", async () => {
    const s = await httpServer(503);
    const bad = await probe(["edge"], { EDGE_PORT: String(s.port) });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/-> 503/);
    const port = s.port;
    await cleanups.pop()?.();
    const none = await probe(["edge"], { EDGE_PORT: String(port) });
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/ECONNREFUSED/);
  });

  it("processor: probes GET /healthz on HEALTH_PORT", async () => {
    const s = await httpServer(200);
    const r = await probe(["processor"], { HEALTH_PORT: String(s.port) });
    expect(r.code, r.out).toBe(0);
    expect(s.paths).toEqual(["/healthz"]);
  });

  it("order-api: healthy only when grpc.health.v1 Check on GRPC_PORT says SERVING", async () => {
    const up = await grpcHealthServer(health.HealthCheckResponse_ServingStatus.SERVING);
    const ok = await probe(["order-api"], { GRPC_PORT: String(up), GRPC_HOST: "0.0.0.0" });
    expect(ok.code, ok.out).toBe(0);
    const down = await grpcHealthServer(health.HealthCheckResponse_ServingStatus.NOT_SERVING);
    const bad = await probe(["order-api"], { GRPC_PORT: String(down) });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/NOT_SERVING/);
  });

  it("refuses an unknown service and a bad port variable", async () => {
    expect((await probe(["billing"], {})).code).toBe(2);
    const r = await probe(["edge"], { EDGE_PORT: "ninety" });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/EDGE_PORT=ninety/);
  });
});
