#!/usr/bin/env node
// bench:soak: the whole local cluster (order-api, 2 processors, 2 edge nodes, its own redis-server)
// for --minutes under steady gRPC orders and SDK socket churn (clients close and resume from their
// saved offsets on a random node), with a SIGTERM drain of an edge node every 3 minutes (restarted
// on its port, alternating nodes) and a processor restart every 5 minutes. Every process's RSS and
// open descriptors and this process's event-loop delay are sampled every 10 s; at the end every
// subscriber's events are compared with the Redis history (lost, duplicated, out of order).
//
// The soak itself is test/fault/soak-run.ts, shared with test/fault/soak.int.test.ts (the 2-minute
// CI version); this script bundles it with esbuild (workspace packages stay external).
//
//   npm run bench:soak -- --minutes 30 [--rate 50] [--subscribers 60] [--admins 4] [--churn 2]
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { ROOT, printColumns, printTable, writeResult } from "./bench-support.mjs";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    rate: { type: "string", default: "50" },
    subscribers: { type: "string", default: "60" },
    admins: { type: "string", default: "4" },
    churn: { type: "string", default: "2" },
  },
});
const num = (name) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} must be a positive number, got ${JSON.stringify(values[name])}`);
    process.exit(2);
  }
  return v;
};
const durationS = Math.round(num("minutes") * 60);

const outDir = join(ROOT, "node_modules/.cache/orderstream-soak");
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, "soak-run.mjs");
await build({
  entryPoints: [join(ROOT, "test/fault/soak-run.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  outfile,
  logLevel: "warning",
});
const { runSoak } = await import(pathToFileURL(outfile).href);

const r = await runSoak({
  durationS,
  ordersPerS: num("rate"),
  users: Math.min(20, num("subscribers")),
  userChains: num("subscribers"),
  adminChains: num("admins"),
  churnPerS: num("churn"),
  edgeDrainEveryS: 180,
  edgeDrainOffsetS: Math.min(60, Math.round(durationS * 0.35)),
  processorRestartEveryS: 300,
  processorRestartOffsetS: Math.min(150, Math.round(durationS * 0.65)),
  sampleEveryS: 10,
  growth: { baselineS: 30, rssFactor: 1.5, rssSlackMB: 50, fdSlack: 200, rssExempt: ["redis"] },
  log: (line) => console.error(line),
});

const file = writeResult("soak", r);
printColumns(
  `soak: ${values.minutes} min, ${r.ordersAccepted} orders, ${r.links} client sessions (${r.retirements} resumes), ${r.edgeDrains.length} edge drains, ${r.processorRestarts.length} processor restarts`,
  ["RSS MB first", "last", "max", "fds first", "last", "max", "restarts"],
  r.processes.map((p) => ({
    metric: p.slot,
    cells: [p.rssMB.first, p.rssMB.last, p.rssMB.max, p.fds.first, p.fds.last, p.fds.max, p.pids.length - 1],
    goal: p.growth ? "bounded" : undefined,
    ok: p.growth ? false : undefined,
  })),
);
printTable("events", [
  { metric: "orders accepted / failed", value: `${r.ordersAccepted} / ${r.orderFailures}` },
  { metric: "events expected", value: r.eventsExpected },
  { metric: "events delivered", value: r.eventsDelivered },
  { metric: "events lost", value: r.eventsLost, goal: "0", ok: r.eventsLost === 0 },
  { metric: "events duplicated", value: r.eventsDuplicated, goal: "0", ok: r.eventsDuplicated === 0 },
  { metric: "subscriptions not equal to history", value: r.mismatched, goal: "0", ok: r.mismatched === 0 },
  { metric: "recoveryFailed", value: r.recoveryFailed, goal: "0", ok: r.recoveryFailed === 0 },
  { metric: "orders with a bad lifecycle", value: r.lifecycleBad, goal: "0", ok: r.lifecycleBad === 0 },
  { metric: "event-loop delay p99 (max of samples) ms", value: r.loop.p99MaxMs },
  { metric: "event-loop delay max ms", value: r.loop.maxMs },
]);
for (const p of r.processes) if (p.growth) console.log(`  growth ${p.slot}: ${p.growth}`);
for (const e of r.examples) console.log(`  ${e}`);
console.log(`\n${file}`);
const ok = r.eventsLost === 0 && r.eventsDuplicated === 0 && r.mismatched === 0 && r.processes.every((p) => !p.growth);
process.exit(ok ? 0 : 1);
