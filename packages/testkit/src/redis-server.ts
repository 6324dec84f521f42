import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";

/** A real redis-server started for a test, on an ephemeral port, keeping nothing on disk (unless `appendonly`). */
export interface TestRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL); the port stays reserved for {@link start}. */
  stop(): Promise<void>;
  /** Starts it again on the same port: empty, or with its AOF data when started with `appendonly`. */
  start(): Promise<void>;
  /** A plain client for assertions; closed by stop(). */
  client(): Redis;
}

async function waitPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    } finally {
      probe.disconnect();
    }
  }
}

/** Options of {@link startRedis}. */
export interface TestRedisOptions {
  /**
   * `--appendonly yes` in a temporary data dir kept across {@link TestRedis.stop} / `start` (a
   * restart that keeps the data), removed when the test process exits.
   */
  appendonly?: boolean;
}

/** Starts `redis-server` on a free port with `--save "" --appendonly no` (or AOF, see {@link TestRedisOptions}). */
export async function startRedis(extraArgs: string[] = [], opts: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  let persistence = ["--appendonly", "no"];
  if (opts.appendonly === true) {
    const dir = mkdtempSync(join(tmpdir(), "orderstream-redis-aof-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    persistence = ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", dir];
  }
  let proc: ChildProcess | undefined;
  const clients: Redis[] = [];
  const start = async (): Promise<void> => {
    proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--protected-mode", "no", ...extraArgs],
      { stdio: "ignore" },
    );
    await waitPing(port, 10_000);
  };
  const stop = async (): Promise<void> => {
    for (const c of clients.splice(0)) c.disconnect();
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGTERM");
    const timer = setTimeout(() => p.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    client: () => {
      const c = new Redis({ port, host: "127.0.0.1" });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
  };
}
