// Redis-side readings of bench:api: INFO commandstats and main-thread CPU per created order,
// waiting for a server's background writes to end, and pinning a running redis-server to a core.
import { execFileSync } from "node:child_process";
import { sleep } from "./bench-support.mjs";

/** Commands the bench itself sends while it measures (INFO polling, CONFIG RESETSTAT): left out of every sum. */
const OWN_COMMANDS = /^(info|config(\|.*)?)$/;

/**
 * INFO commandstats as `{ command: { calls, usec } }`, the bench's own commands left out. Commands
 * run inside MULTI/EXEC or a script count twice in Redis 7.0: in their own line and in EXEC's/EVALSHA's.
 */
export async function commandStats(redis) {
  const out = {};
  for (const m of (await redis.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (!OWN_COMMANDS.test(m[1])) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return out;
}

/** Sum of calls and usec over every line of a {@link commandStats} reading. */
export function totals(stats) {
  return Object.values(stats).reduce((t, s) => ({ calls: t.calls + s.calls, usec: t.usec + s.usec }), { calls: 0, usec: 0 });
}

/** Per-command calls and usec per order, costliest first. */
export function perOrder(stats, orders) {
  return Object.entries(stats)
    .map(([command, s]) => ({ command, callsPerOrder: round(s.calls / orders, 3), usecPerOrder: round(s.usec / orders, 2) }))
    .sort((a, b) => b.usecPerOrder - a.usecPerOrder);
}

/** CPU time of the server's main thread in µs (INFO cpu): commands plus reading requests and writing replies. */
export async function mainThreadCpuUs(redis) {
  const text = await redis.info("cpu");
  const f = (k) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return Math.round((f("used_cpu_user_main_thread") + f("used_cpu_sys_main_thread")) * 1e6);
}

/**
 * Waits until the command counts of every node stop changing for `quietMs` (at most `maxMs`):
 * a server's background writes (job adds) have ended. `busyMs` = time until the last change.
 */
export async function waitQuiet(nodes, { quietMs = 1000, maxMs = 15_000, everyMs = 100 } = {}) {
  const t0 = performance.now();
  const reading = async () => (await Promise.all(nodes.map(async (n) => totals(await commandStats(n)).calls))).join(",");
  let last = await reading();
  let changedAt = t0;
  for (;;) {
    const now = performance.now();
    if (now - changedAt >= quietMs) return { settled: true, busyMs: Math.round(changedAt - t0) };
    if (now - t0 >= maxMs) return { settled: false, busyMs: Math.round(now - t0) };
    await sleep(everyMs);
    const r = await reading();
    if (r !== last) {
      last = r;
      changedAt = performance.now();
    }
  }
}

/** Pins a running redis-server, all its threads, to `core` (found by its INFO process_id); returns the pid. */
export async function pinRedis(redis, core) {
  const pid = /^process_id:(\d+)/m.exec(await redis.info("server"))?.[1];
  if (!pid) throw new Error("INFO server has no process_id");
  execFileSync("taskset", ["-a", "-cp", core, pid], { stdio: "ignore" });
  return Number(pid);
}

export const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
