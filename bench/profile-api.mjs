#!/usr/bin/env node
// Profiles order-api under load (not a benchmark: a tool for finding where its CPU goes).
// Starts redis-server and order-api with --cpu-prof, runs PROFILE_PHASE (unary | bulk) from this
// process, stops the api with SIGTERM (which writes the profile) and prints the top self-time
// functions. Usage: npm run build && node bench/profile-api.mjs [unary|bulk]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, serviceEntry, startRedis } from "@orderstream/testkit";
import { bulkPhase, orderClient, unaryPhase, warmUp } from "./order-load.mjs";

const phase = process.argv[2] ?? "bulk";
const dir = mkdtempSync(join(tmpdir(), "orderstream-prof-"));
const redis = await startRedis();
const port = await freePort();
const api = spawn(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, serviceEntry("order-api")], {
  env: { ...process.env, REDIS_URL: redis.url, GRPC_HOST: "127.0.0.1", GRPC_PORT: String(port), METRICS_PORT: "0", LOG_LEVEL: "info" },
  stdio: ["ignore", "pipe", "inherit"],
});
const exited = once(api, "exit");
try {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("order-api not ready within 15 s")), 15_000);
    api.stdout.on("data", (d) => {
      if (String(d).includes('"msg":"ready"')) {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
  });
  const client = orderClient(port);
  await warmUp(client, 64);
  if (phase === "unary") console.log(await unaryPhase(client, { seconds: 8, concurrency: 64 }));
  else console.log(await bulkPhase(client, { total: 60_000 }));
  client.close();
} finally {
  api.kill("SIGTERM");
  await exited;
  await redis.stop();
}
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
if (!file) throw new Error(`no profile written in ${dir}`);
const prof = JSON.parse(readFileSync(join(dir, file), "utf8"));
const self = new Map();
const dt = new Map();
prof.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
let total = 0;
for (const n of prof.nodes) {
  const t = dt.get(n.id) ?? 0;
  total += t;
  const cf = n.callFrame;
  const key = `${cf.functionName || "(anonymous)"} ${cf.url.split("/").slice(-3).join("/")}:${cf.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + t);
}
console.log(`profile ${join(dir, file)} (self time, top 40)`);
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
