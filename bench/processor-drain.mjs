// bench:api phase (d): orderstream processors draining the order jobs queued before they started,
// counted from their Prometheus counter orderstream_processor_transitions_total.
import { freePort, serviceEntry } from "@orderstream/testkit";
import { sleep } from "./bench-support.mjs";
import { keepWarnings, startPinned } from "./fanout-harness.mjs";

/** confirm, process, ship, deliver. */
export const TRANSITIONS_PER_ORDER = 4;

async function transitionsOf(healthPort) {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const lines = [...text.matchAll(/^orderstream_processor_transitions_total(?:\{[^}]*\})? ([\d.e+]+)$/gm)];
  if (lines.length === 0 && !text.includes("orderstream_processor_transitions_total"))
    throw new Error(`processor on ${healthPort}: /metrics has no orderstream_processor_transitions_total`);
  return lines.reduce((sum, m) => sum + Number(m[1]), 0);
}

/**
 * Starts `workers` processors on `cores` with `env` added (children get pushed to `children` for the caller to stop),
 * waits until they applied TRANSITIONS_PER_ORDER × `orders` transitions or `timeoutMs` passed.
 */
export async function drainWithProcessors(redisUrl, { orders, workers = 2, timeoutMs, cores = "0,1", children, env = {} }) {
  const procs = [];
  for (let i = 0; i < workers; i++) {
    const healthPort = await freePort();
    const proc = startPinned(`processor-${i}`, serviceEntry("processor"), {
      REDIS_URL: redisUrl, LOG_LEVEL: "info", HEALTH_PORT: String(healthPort),
      SHIP_DELAY_MS: "1", DELIVER_DELAY_MS: "1", PROCESSOR_CONCURRENCY: "100", ...env,
    }, cores);
    children.push(proc);
    procs.push({ proc, healthPort, warnings: keepWarnings(proc) });
  }
  await Promise.all(procs.map((p) => p.proc.ready));
  const count = async () => (await Promise.all(procs.map((p) => transitionsOf(p.healthPort)))).reduce((a, b) => a + b, 0);
  const expected = orders * TRANSITIONS_PER_ORDER;
  const before = await count();
  const t0 = performance.now();
  let done = before;
  let lastProgressAt = t0;
  while (done < expected && performance.now() - t0 < timeoutMs) {
    await sleep(100);
    const now = await count();
    if (now > done) lastProgressAt = performance.now();
    done = now;
  }
  // The rate up to the last progress: a drain that stalls short of `expected` is not diluted by the wait.
  const seconds = (lastProgressAt - t0) / 1000;
  return {
    workers, transitions: done, expected, seconds, transitionsPerS: seconds > 0 ? Math.round((done - before) / seconds) : 0,
    timedOut: done < expected, warnings: procs.flatMap((p) => p.warnings()),
  };
}
