#!/usr/bin/env node
// Container health probe for every orderstream service (the image's HEALTHCHECK and compose's
// healthchecks run it). Usage: node scripts/healthcheck.mjs [edge|processor|order-api]
// Without an argument it finds the service from the running process's command line
// (`node services/<svc>/dist/main.js`), so one image-wide HEALTHCHECK fits every service.
// Ports come from the same environment variables the service reads:
//   edge       GET http://127.0.0.1:$EDGE_PORT/healthz       (EDGE_PORT, default 9001)
//   processor  GET http://127.0.0.1:$HEALTH_PORT/healthz     (HEALTH_PORT, default 9100)
//   order-api  grpc.health.v1.Health/Check on $GRPC_PORT     (GRPC_PORT, default 50051)
// Exit 0 = healthy, 1 = unhealthy (reason on stderr), 2 = usage error.
import { readFileSync, readdirSync } from "node:fs";
import { request } from "node:http";

const TIMEOUT_MS = 3000;
const SERVICES = ["edge", "processor", "order-api"];

/** Finds `services/<svc>/dist/main.js` in the command line of any process in this PID namespace. */
function detectService() {
  let pids = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const m = /services\/([a-z][a-z-]*)\/dist\/main\.js/.exec(cmdline);
    if (m && SERVICES.includes(m[1])) return m[1];
  }
  return undefined;
}

/** Host to probe: the service's bind host unless it listens on every interface. */
function probeHost(bindHost) {
  if (!bindHost || bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "[::]") return "127.0.0.1";
  return bindHost;
}

function envPort(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${raw} is not a usable port`);
  return n;
}

function httpProbe(host, port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: "GET", timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve(`GET ${path} -> 200`);
      else reject(new Error(`GET http://${host}:${port}${path} -> ${res.statusCode}`));
    });
    req.on("timeout", () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out after ${TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}

async function grpcProbe(host, port) {
  const grpc = await import("@grpc/grpc-js");
  const { health } = await import("@orderstream/proto");
  const client = new health.HealthClient(`${host}:${port}`, grpc.credentials.createInsecure());
  try {
    const res = await new Promise((resolve, reject) => {
      client.check({ service: "" }, new grpc.Metadata(), { deadline: Date.now() + TIMEOUT_MS }, (err, r) =>
        err ? reject(new Error(`grpc.health.v1.Health/Check on ${host}:${port}: ${err.message}`)) : resolve(r),
      );
    });
    const status = health.healthCheckResponse_ServingStatusToJSON(res.status);
    if (res.status !== health.HealthCheckResponse_ServingStatus.SERVING) {
      throw new Error(`grpc.health.v1.Health/Check on ${host}:${port} -> ${status}`);
    }
    return `Health/Check -> ${status}`;
  } finally {
    client.close();
  }
}

async function main() {
  const arg = process.argv[2];
  if (arg === "-h" || arg === "--help") {
    console.log("usage: node scripts/healthcheck.mjs [edge|processor|order-api]");
    return 0;
  }
  const svc = arg ?? detectService();
  if (!svc || !SERVICES.includes(svc)) {
    console.error(
      arg
        ? `healthcheck: unknown service "${arg}" (expected one of ${SERVICES.join(", ")})`
        : "healthcheck: no service given and no services/<svc>/dist/main.js process found",
    );
    return 2;
  }
  let result;
  if (svc === "edge") {
    result = await httpProbe(probeHost(process.env.EDGE_HOST), envPort("EDGE_PORT", 9001), "/healthz");
  } else if (svc === "processor") {
    result = await httpProbe("127.0.0.1", envPort("HEALTH_PORT", 9100), "/healthz");
  } else {
    result = await grpcProbe(probeHost(process.env.GRPC_HOST), envPort("GRPC_PORT", 50051));
  }
  console.log(`healthcheck ${svc}: ${result}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`healthcheck: unhealthy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
