// Shared plumbing of bench/edge-bench.mjs, bench/peers-bench.mjs and bench/grpc-vs-ws-bench.mjs: pinned server and
// client processes, CPU and RSS readings from /proc, the stepped fan-out and fixed-rate phases.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import hdr from "hdr-histogram-js";
import { sleep } from "./bench-support.mjs";

/** Clock ticks per second of /proc/<pid>/stat utime/stime (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;

/** utime+stime of a process in ms (0 once it is gone). */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Resident set size of a process in bytes. */
export const rssBytes = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

/** PIDs of `pid` and of every process under it (an EDGE_WORKERS supervisor and its workers). */
export function processTree(pid) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, ppid] of parent) if (ppid === tree[i]) tree.push(child);
  return tree;
}

/** utime+stime in ms summed over `pids`. */
export const groupCpuMs = (pids) => pids.reduce((a, p) => a + cpuMs(p), 0);

/** RSS in bytes summed over `pids` (0 for one that is gone). */
export const groupRssBytes = (pids) => pids.reduce((a, p) => {
  try {
    return a + rssBytes(p);
  } catch {
    return a;
  }
}, 0);

/**
 * Starts several pinned servers as one (e.g. relay processes sharing a port with SO_REUSEPORT):
 * `ready` once all are, `stop` stops all, `pids()` lists them.
 */
export function startPinnedGroup(name, entry, env, count, core = "0") {
  const members = Array.from({ length: count }, (_, i) => startPinned(`${name}-${i}`, entry, env, core));
  const ready = Promise.all(members.map((m) => m.ready));
  ready.catch(() => undefined);
  return {
    name,
    proc: members[0].proc,
    ready,
    pids: () => members.map((m) => m.proc.pid),
    stop: () => Promise.all(members.map((m) => m.stop())),
  };
}

/** Starts `node entry` pinned to `core`; resolves `ready` on its `"msg":"ready"` log line. */
export function startPinned(name, entry, env, core = "0") {
  const proc = spawn("taskset", ["-c", core, process.execPath, entry], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const ready = new Promise((resolve, reject) => {
    let out = "";
    const onData = (d) => {
      out = (out + d).slice(-4000);
      if (out.includes('"msg":"ready"')) {
        proc.stdout.off("data", onData);
        proc.stdout.resume();
        resolve(undefined);
      }
    };
    proc.stdout.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`${name} exited ${code}: ${out.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  const stop = () => new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return r(undefined);
    proc.once("exit", r);
    // Its workers too (EDGE_WORKERS), or they would linger draining into the next measurement.
    const children = processTree(proc.pid).slice(1);
    proc.kill("SIGKILL");
    for (const pid of children) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  return { name, proc, ready, stop, pids: () => processTree(proc.pid) };
}

/** Keeps the last `max` pino lines at warn level or above (as "level msg: err") of a pinned process; returns a reader. */
export function keepWarnings(pinned, max = 20) {
  const lines = [];
  let rest = "";
  pinned.proc.stdout.on("data", (d) => {
    const parts = (rest + d).split("\n");
    rest = parts.pop() ?? "";
    for (const l of parts) {
      if (!/"level":(4|5|6)0/.test(l)) continue;
      try {
        const { level, msg, err } = JSON.parse(l);
        lines.push(`${level} ${msg ?? ""}${err ? `: ${err.message ?? err}` : ""}`.slice(0, 300));
      } catch {
        lines.push(l.slice(0, 300));
      }
    }
    lines.splice(0, Math.max(0, lines.length - max));
  });
  return () => [...lines];
}

/**
 * Forks client processes (`script url count channel addrs`, IPC protocol of bench/fanout-client.mjs)
 * pinned to `core`, at most `perClient` sockets each, each from its own `addrsPerClient` 127.0.0.x
 * addresses starting at 127.0.0.`firstAddr` (more addresses: cheaper ephemeral-port binds).
 */
/**
 * @param {string} script
 * @param {string} url
 * @param {number} total
 * @param {string} channel
 * @param {{ perClient?: number, core?: string, extraArgs?: string[], firstAddr?: number, addrsPerClient?: number }} [opts]
 */
export function startClients(script, url, total, channel, { perClient = 17_000, core = "1", extraArgs = [], firstAddr = 1, addrsPerClient = 2 } = {}) {
  const clients = [];
  for (let i = 0, n = 0; n < total; i++) {
    const count = Math.min(perClient, total - n);
    n += count;
    const addrs = Array.from({ length: addrsPerClient }, (_, k) => `127.0.0.${firstAddr + addrsPerClient * i + k}`).join(",");
    const proc = spawn("taskset", ["-c", core, process.execPath, script, url, String(count), channel, addrs, ...extraArgs], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const pending = [];
    proc.on("message", (m) => pending.shift()?.(m));
    const ask = (cmd) => new Promise((resolve) => { pending.push(resolve); if (cmd) proc.send({ cmd }); });
    clients.push({ proc, ask, ready: ask(null) });
  }
  return clients;
}

/** Tells every client to exit and waits for them. */
export async function stopClients(clients) {
  for (const c of clients) if (c.proc.connected) c.proc.send({ cmd: "exit" });
  await Promise.all(clients.map((c) => new Promise((r) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return r(undefined);
    const t = setTimeout(() => c.proc.kill("SIGKILL"), 5000);
    c.proc.once("exit", () => { clearTimeout(t); r(undefined); });
  })));
}

/** Publishes real order.created events through OrderStore at `rate`/s for `seconds`; returns the count. */
export async function publishAt(store, rate, seconds) {
  let published = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    const batch = [];
    for (; published < due; published++) batch.push(store.create({ userId: `bench-${published % 100}`, items: [{ productId: "sku", quantity: 1, price: 1 }] }));
    await Promise.all(batch);
    await sleep(5);
  }
  return published;
}

/**
 * One measured phase: resets the clients, publishes at `rate`/s for `seconds`, waits `settleMs`,
 * and returns deliveries, loss, latency percentiles, server CPU and the client processes' CPU.
 */
export async function phase({ clients, subscribed, store, serverPid, serverPids = () => [serverPid], rate, seconds, settleMs = 1500 }) {
  await Promise.all(clients.map((c) => c.ask("reset")));
  const pids = serverPids();
  const s0 = groupCpuMs(pids);
  const c0 = clients.reduce((a, c) => a + cpuMs(c.proc.pid), 0);
  const t0 = performance.now();
  const published = await publishAt(store, rate, seconds);
  await sleep(settleMs);
  const wallMs = performance.now() - t0;
  const serverCpuMs = groupCpuMs(pids) - s0;
  const clientCpuMs = clients.reduce((a, c) => a + cpuMs(c.proc.pid), 0) - c0;
  const reports = await Promise.all(clients.map((c) => c.ask("report")));
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  for (const r of reports) h.add(hdr.decodeFromCompressedBase64(r.histogram));
  const received = reports.reduce((a, r) => a + r.received, 0);
  const open = reports.reduce((a, r) => a + r.open, 0);
  const expected = published * subscribed;
  return {
    rate, published, expected, received, lost: expected - received, open,
    deliveriesPerS: Math.round(received / seconds),
    p50Ms: h.getValueAtPercentile(50), p99Ms: h.getValueAtPercentile(99), maxMs: h.maxValue,
    serverCpuPct: Math.round((serverCpuMs / wallMs) * 100),
    clientCpuPct: Math.round((clientCpuMs / wallMs) * 100),
    serverCpuMsPer100k: received ? Math.round((serverCpuMs / received) * 100_000) : null,
  };
}

/**
 * Raises the rate through `rates` until any loss or p99 > `hardCapMs` (1 s). The max is the last step
 * with no loss and p99 <= 100 ms; `maxNoLossDeliveriesPerS` ignores latency (p99 <= 1 s, no loss).
 */
export async function rampUp(name, ctx, rates, seconds, hardCapMs = 1000) {
  const steps = [];
  for (const rate of rates) {
    const step = await phase({ ...ctx, rate, seconds });
    steps.push(step);
    console.log(`  ${name} ${+rate.toFixed(2)} ev/s: ${step.deliveriesPerS} deliveries/s, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, lost ${step.lost}, server cpu ${step.serverCpuPct}%, clients cpu ${step.clientCpuPct}%`);
    if (step.p99Ms > hardCapMs || step.lost !== 0) break;
  }
  const best = steps.filter((s) => s.p99Ms <= 100 && s.lost === 0).at(-1);
  const noLoss = steps.filter((s) => s.lost === 0).at(-1);
  return { steps, maxDeliveriesPerS: best?.deliveriesPerS ?? 0, atRate: best?.rate ?? 0, best, maxNoLossDeliveriesPerS: noLoss?.deliveriesPerS ?? 0, noLoss };
}
