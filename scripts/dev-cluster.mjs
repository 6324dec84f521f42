#!/usr/bin/env node
// The local cluster launcher (`npm start` runs it after the build): Redis (its own redis-server
// unless REDIS_URL is set), order-api, 2 processors and 2 edge nodes, with prefixed output, the
// endpoints and ready-made dev tokens printed, and a clean ordered stop on Ctrl-C / SIGTERM.
// `--smoke` (or DEV_CLUSTER_SMOKE=1): start everything, wait until all are ready, stop, exit 0.
// `--redis-cluster` (or LOCAL_REDIS=cluster), when REDIS_URL is unset: instead of one
// redis-server, start a local Redis Cluster of 3 masters + 3 replicas and hand its
// comma-separated node URLs to every service as REDIS_URL (`npm start -- --redis-cluster`).
// `--redis-sentinel` (or LOCAL_REDIS=sentinel), when REDIS_URL is unset: a primary, a replica and
// 3 sentinels, every service on their redis+sentinel:// URL (`npm start -- --redis-sentinel`).
// Supervision: once the cluster is ready, a child that dies unexpectedly (an edge SIGKILLed, say)
// is restarted with backoff (1 s, doubling to 30 s; reset after 60 s up), as compose's restart
// policy or k8s would, and logged; a config error (exit 2) or a death during start-up still stops
// everything.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { portIsFree, redisServerInstalled, startDevRedis, startDevRedisCluster, startDevRedisSentinel } from "./dev-redis-server.mjs";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const SMOKE = process.argv.includes("--smoke") || process.env.DEV_CLUSTER_SMOKE === "1";
const LOCAL_REDIS = process.argv.includes("--redis-cluster")
  ? "cluster"
  : process.argv.includes("--redis-sentinel")
    ? "sentinel"
    : process.env.LOCAL_REDIS || "single";
const READY_TIMEOUT_MS = 60_000;
const CHILD_STOP_TIMEOUT_MS = 30_000;
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A child up this long before it died starts its backoff over. */
const RESTART_RESET_AFTER_MS = 60_000;
/** The exit code of a service that refused its configuration: restarting cannot help. */
const CONFIG_ERROR_EXIT = 2;
const DEV_SECRET = "orderstream-dev-secret-change-me";

const say = (line) => process.stdout.write(`[dev-cluster] ${line}\n`);
const fail = (line) => process.stderr.write(`[dev-cluster] ERROR: ${line}\n`);

function intEnv(name, def) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    fail(`${name}=${raw} is not a valid port (1-65535)`);
    process.exit(2);
  }
  return n;
}

/** An HS256 JWT signed with node:crypto (dev tokens only; no dependency). */
function signJwt(claims, secret, ttlS = 7 * 24 * 3600) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ ...claims, iat: now, exp: now + ttlS })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

const grpcPort = intEnv("GRPC_PORT", 50051);
const apiMetricsPort = intEnv("METRICS_PORT", 9464);
const edgeBase = intEnv("EDGE_PORT_BASE", 9001);
const healthBase = intEnv("HEALTH_PORT_BASE", 9100);
const secret = process.env.AUTH_JWT_SECRET || DEV_SECRET;
const adminToken = signJwt({ sub: "admin", admin: true }, secret);
const userToken = signJwt({ sub: "alice" }, secret);

const entry = (service) => join(ROOT, "services", service, "dist", "main.js");
const specs = [
  { name: "order-api", service: "order-api", group: 1, port: ["GRPC_PORT", grpcPort], env: { GRPC_PORT: String(grpcPort), METRICS_PORT: String(apiMetricsPort) } },
  ...[0, 1].map((i) => ({
    name: `processor-${i + 1}`,
    service: "processor",
    group: 2,
    required: true,
    port: ["HEALTH_PORT_BASE", healthBase + i],
    env: { HEALTH_PORT: String(healthBase + i) },
  })),
  ...[0, 1].map((i) => ({
    name: `edge-${i + 1}`,
    service: "edge",
    group: 0,
    port: ["EDGE_PORT_BASE", edgeBase + i],
    env: {
      EDGE_PORT: String(edgeBase + i),
      NODE_ID: `edge-${i + 1}`,
      ANONYMOUS_ALL_ORDERS: process.env.ANONYMOUS_ALL_ORDERS || "true",
      ORDER_API_URL: `127.0.0.1:${grpcPort}`,
      DRAIN_WINDOW_MS: process.env.DRAIN_WINDOW_MS || "1000",
    },
  })),
];

const children = [];
let redis;
let stopping;
let clusterReady = false;
/** Per service name: restarts so far and the current backoff. */
const restarts = new Map();

/**
 * A child died unexpectedly: before the cluster was ready, or of a config error, stop everything
 * (restarting cannot fix that); otherwise start it again after a backoff, and log it.
 */
function onUnexpectedExit(child, code, signal) {
  const { spec, proc } = child;
  const why = `${spec.name} (pid ${proc.pid}) exited unexpectedly (code ${code}, signal ${signal})`;
  if (!clusterReady || code === CONFIG_ERROR_EXIT) {
    fail(`${why}; stopping the cluster`);
    void shutdown(1);
    return;
  }
  const state = restarts.get(spec.name) ?? { count: 0, delayMs: RESTART_MIN_MS };
  if (Date.now() - child.startedAt > RESTART_RESET_AFTER_MS) state.delayMs = RESTART_MIN_MS;
  state.count++;
  const delayMs = state.delayMs;
  state.delayMs = Math.min(state.delayMs * 2, RESTART_MAX_MS);
  restarts.set(spec.name, state);
  fail(`${why}; restarting it in ${delayMs} ms (restart ${state.count})`);
  child.awaitingRestart = true;
  const timer = setTimeout(() => {
    if (stopping) return;
    children.splice(children.indexOf(child), 1);
    const next = startChild(spec, child.redisUrl);
    next.readyPromise.then(() => say(`${spec.name} ready again (pid ${next.proc.pid}, restart ${state.count})`));
  }, delayMs);
  child.restartTimer = timer;
}

function startChild(spec, redisUrl) {
  const proc = spawn(process.execPath, [entry(spec.service)], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redisUrl, AUTH_JWT_SECRET: secret, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group: Ctrl-C reaches only the launcher, which stops children in order
  });
  /** @type {{ spec: typeof spec, proc: typeof proc, ready: boolean, exit: { code: number | null, signal: NodeJS.Signals | null } | undefined, redisUrl: string, startedAt: number, [k: string]: any }} */
  const child = { spec, proc, ready: false, exit: undefined, redisUrl, startedAt: Date.now() };
  let onReady;
  child.readyPromise = new Promise((resolve) => (onReady = resolve));
  const label = `[${spec.name}]`.padEnd(14);
  for (const stream of [proc.stdout, proc.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      process.stdout.write(`${label} ${line}\n`);
      if (!child.ready && line.includes('"msg":"ready"')) {
        child.ready = true;
        onReady();
      }
    });
  }
  child.exited = new Promise((resolve) =>
    proc.once("exit", (code, signal) => {
      child.exit = { code, signal };
      resolve(child.exit);
      if (!stopping) onUnexpectedExit(child, code, signal);
    }),
  );
  proc.once("error", (err) => fail(`${spec.name} could not start: ${err.message}`));
  say(`started ${spec.name} (pid ${proc.pid})`);
  children.push(child);
  return child;
}

async function stopChild(child) {
  if (child.exit) return child.exit;
  say(`stopping ${child.spec.name} (pid ${child.proc.pid})`);
  child.proc.kill("SIGTERM");
  const timer = setTimeout(() => {
    fail(`${child.spec.name} did not stop within ${CHILD_STOP_TIMEOUT_MS} ms; SIGKILL`);
    child.proc.kill("SIGKILL");
  }, CHILD_STOP_TIMEOUT_MS);
  const exit = await child.exited;
  clearTimeout(timer);
  return exit;
}

/** Stops everything once, in order: edges (drain), order-api, processors, then Redis. */
function shutdown(exitCode) {
  stopping ??= (async () => {
    let code = exitCode;
    for (const c of children) clearTimeout(c.restartTimer);
    for (const group of [0, 1, 2]) {
      const exits = await Promise.all(children.filter((c) => c.spec.group === group && !c.awaitingRestart).map(async (c) => [c, await stopChild(c)]));
      for (const [c, exit] of exits) {
        if (exit.code !== 0 && code === 0) {
          fail(`${c.spec.name} did not exit cleanly (code ${exit.code}, signal ${exit.signal})`);
          code = 1;
        }
      }
    }
    if (redis) {
      say(LOCAL_REDIS === "cluster" ? "stopping the Redis Cluster" : LOCAL_REDIS === "sentinel" ? "stopping Redis Sentinel" : "stopping redis-server");
      await redis.stop();
    }
    say(code === 0 ? "stopped" : `stopped (exit ${code})`);
    process.exit(code);
  })();
  return stopping;
}

function printEndpoints(redisUrl, started) {
  const has = (service) => started.some((c) => c.spec.service === service);
  const own =
    LOCAL_REDIS === "cluster"
      ? "own Redis Cluster, 3 masters + 3 replicas"
      : LOCAL_REDIS === "sentinel"
        ? "own Redis Sentinel, primary + replica + 3 sentinels"
        : "own redis-server";
  const lines = ["", "orderstream dev cluster", `  Redis            ${redisUrl}${redis ? ` (${own}, stopped on exit)` : ""}`];
  if (has("order-api")) {
    lines.push(`  gRPC             127.0.0.1:${grpcPort}   (grpcurl -plaintext 127.0.0.1:${grpcPort} list)`);
    lines.push(`  order-api        http://127.0.0.1:${apiMetricsPort}/metrics`);
  }
  for (const c of started.filter((x) => x.spec.service === "edge")) {
    const port = c.spec.env.EDGE_PORT;
    lines.push(`  WebSocket        ws://127.0.0.1:${port}/ws   admin page http://127.0.0.1:${port}/ (sign in with the admin token)`);
  }
  for (const c of started.filter((x) => x.spec.service === "processor")) {
    lines.push(`  ${c.spec.name.padEnd(16)} http://127.0.0.1:${c.spec.env.HEALTH_PORT}/metrics`);
  }
  lines.push(
    `  AUTH_JWT_SECRET  ${secret}${secret === DEV_SECRET ? " (development secret; set AUTH_JWT_SECRET to change)" : ""}`,
    `  admin token      ${adminToken}`,
    `  user token       ${userToken}   (sub "alice": channel orders.user.alice)`,
    `  watch events     node packages/loadgen/dist/watch-cli.js ws://127.0.0.1:${edgeBase}/ws orders.created orders.status`,
    `  load test        npm run load -- e2e --sockets 200 --rate 50 --duration 10 --jwt-secret ${secret}`,
    "",
  );
  process.stdout.write(lines.join("\n") + "\n");
}

async function main() {
  // If whoever reads our output goes away (EPIPE), keep going: the children must still be stopped.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  // First Ctrl-C / SIGTERM: ordered clean stop. A second one while stopping: SIGKILL everything.
  const onSignal = (signal) => {
    if (!stopping) return void shutdown(0);
    fail(`${signal} again: killing every child now`);
    for (const c of children) if (!c.exit) c.proc.kill("SIGKILL");
    redis?.kill();
    process.exit(130);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => onSignal(signal));
  let crashed = false;
  process.on("uncaughtException", (err) => {
    if (crashed) return;
    crashed = true;
    fail(`launcher crashed: ${err.stack ?? err}`);
    void shutdown(1);
  });

  const present = [];
  for (const spec of specs) {
    if (existsSync(entry(spec.service))) present.push(spec);
    else if ("required" in spec && spec.required) {
      fail(`${entry(spec.service)} is missing: run \`npm run build\` first (or use \`npm start\`)`);
      process.exit(1);
    } else say(`skipping ${spec.name}: ${entry(spec.service)} does not exist yet (not built)`);
  }
  for (const spec of present) {
    const [varName, port] = spec.port;
    if (!(await portIsFree(port))) {
      fail(`port ${port} for ${spec.name} is already in use; free it or set ${varName} to another port`);
      process.exit(1);
    }
  }

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    if (!["single", "cluster", "sentinel"].includes(LOCAL_REDIS)) {
      fail(`LOCAL_REDIS=${LOCAL_REDIS} is not one of: single, cluster, sentinel`);
      process.exit(2);
    }
    if (!redisServerInstalled() || (LOCAL_REDIS !== "single" && !redisServerInstalled("redis-cli"))) {
      fail("REDIS_URL is not set and redis-server is not installed. Install it (`apt-get install -y redis-server`) or set REDIS_URL=redis://host:port");
      process.exit(1);
    }
    if (LOCAL_REDIS === "cluster") {
      redis = await startDevRedisCluster();
      redisUrl = redis.url;
      for (const n of redis.nodes) say(`started redis-server ${n.role} 127.0.0.1:${n.port} (pid ${n.proc.pid})`);
      say(`started a Redis Cluster (3 masters + 3 replicas): REDIS_URL=${redisUrl}`);
    } else if (LOCAL_REDIS === "sentinel") {
      redis = await startDevRedisSentinel();
      redisUrl = redis.url;
      for (const n of redis.nodes) say(`started redis-server ${n.role} 127.0.0.1:${n.port} (pid ${n.proc.pid})`);
      say(`started Redis Sentinel (primary + replica + 3 sentinels): REDIS_URL=${redisUrl}`);
      for (const n of redis.nodes) {
        n.proc.once("exit", (code, signal) => {
          if (!stopping) fail(`redis-server ${n.role} ${n.port} exited (code ${code}, signal ${signal}); Sentinel fails over, the services follow`);
        });
      }
    } else {
      redis = await startDevRedis();
      redisUrl = redis.url;
      say(`started redis-server on ${redisUrl} (pid ${redis.proc.pid})`);
    }
    redis.exited.then(({ code, signal, port }) => {
      if (stopping || LOCAL_REDIS === "sentinel") return; // Sentinel's job
      fail(`redis-server${port ? ` ${port}` : ""} exited unexpectedly (code ${code}, signal ${signal}); stopping the cluster`);
      void shutdown(1);
    });
  } else {
    if (process.argv.includes("--redis-cluster") || process.env.LOCAL_REDIS) say("REDIS_URL is set: using it, not starting a local Redis");
    say(`using REDIS_URL=${redisUrl.replace(/\/\/[^,]*@/g, "//***@").replace(/(sentinelPassword=)[^&]*/g, "$1***")}`);
  }

  // Dependencies first: order-api (edges talk to it), processors, then edges.
  const started = [];
  for (const group of [1, 2, 0]) {
    for (const spec of present.filter((s) => s.group === group)) started.push(startChild(spec, redisUrl));
  }
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, READY_TIMEOUT_MS, "timeout")));
  const outcome = await Promise.race([Promise.all(started.map((c) => c.readyPromise)), timeout]);
  clearTimeout(timer);
  if (stopping) return;
  if (outcome === "timeout") {
    const late = started.filter((c) => !c.ready).map((c) => c.spec.name);
    fail(`not ready within ${READY_TIMEOUT_MS} ms: ${late.join(", ")}`);
    await shutdown(1);
    return;
  }
  clusterReady = true;
  printEndpoints(redisUrl, started);
  say(`cluster ready (${started.map((c) => c.spec.name).join(", ")})`);
  if (SMOKE) {
    say("smoke mode: stopping again");
    await shutdown(0);
  } else say("press Ctrl-C to stop");
}

main().catch((err) => {
  fail(err.stack ?? String(err));
  void shutdown(1);
});
