import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /** Master group name. Default "mymaster". */
  masterName?: string;
  /** Sentinels (quorum: a majority of them). Default 3. */
  sentinels?: number;
  /** `sentinel down-after-milliseconds`: how soon a dead primary is noticed. Default 1000. */
  downAfterMs?: number;
  /** Appended to the primary's and the replica's `redis-server` command line. */
  extraArgs?: string[];
}

/** What a failover did and how long Sentinel took to report the new primary. */
export interface SentinelFailover {
  from: number;
  to: number;
  /** From the request (or the kill) until every sentinel names the new primary, which says role:master. */
  ms: number;
}

/** A primary, one replica and N sentinels, all real local `redis-server` processes, keeping nothing. */
export interface TestRedisSentinel {
  /** `redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,…/<masterName>`: a Sentinel `REDIS_URL`. */
  url: string;
  masterName: string;
  /** Ports of the data nodes (the initial primary first) and of the sentinels. */
  dataPorts: number[];
  sentinelPorts: number[];
  /** The port the sentinels name as primary now. */
  primaryPort(): Promise<number>;
  /**
   * Waits until the primary has a replica in sync, SENTINEL FAILOVER, then waits until every
   * sentinel names the other node and it is master.
   */
  failover(timeoutMs?: number): Promise<SentinelFailover>;
  /** SIGKILLs the current primary's process (one this helper started), then waits as {@link failover}. */
  killPrimary(timeoutMs?: number): Promise<SentinelFailover>;
  /** A Sentinel-aware client for assertions (follows failovers); closed by {@link stop}. */
  client(): Redis;
  /** A plain connection to one node or sentinel; closed by {@link stop}. */
  nodeClient(port: number): Redis;
  /** Stops every process this helper started (SIGTERM, SIGKILL after 3 s) and removes its files. */
  stop(): Promise<void>;
}

interface Proc {
  port: number;
  proc: ChildProcess;
  exited: Promise<void>;
  log(): string;
}

/** Every process started here and still running: SIGKILLed (by PID) if the test process exits first. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(proc: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const p of live) p.kill("SIGKILL");
    });
  }
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
}

async function ask(port: number, ...args: string[]): Promise<unknown> {
  const conn = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: 2000,
  });
  conn.on("error", () => undefined);
  try {
    await conn.connect();
    const [cmd, ...rest] = args;
    return await conn.call(cmd as string, ...rest);
  } finally {
    conn.disconnect();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Spawns `redis-server <args>` on a free port (retried on others); resolves once it answers PING. */
async function spawnServer(taken: Set<number>, args: (port: number) => Promise<string[]>, what: string): Promise<Proc> {
  let last = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    const proc = spawn("redis-server", await args(port), { stdio: ["ignore", "pipe", "pipe"] });
    track(proc);
    let log = "";
    const keep = (d: Buffer): void => {
      log = (log + d.toString()).slice(-8000);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      if ((await ask(port, "PING").catch(() => undefined)) === "PONG") return { port, proc, exited, log: () => log };
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        break;
      }
      await sleep(25);
    }
    last = log.trim().slice(-1500);
  }
  throw new Error(`could not start ${what} in 5 tries: ${last}`);
}

/** Reads a flat [k, v, k, v…] reply (SENTINEL MASTER) into an object. */
function fields(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const list = Array.isArray(reply) ? reply : [];
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = String(list[i + 1]);
  return out;
}

/**
 * Starts a primary, one replica (`--replicaof`) and `sentinels` sentinels (`redis-server <conf>
 * --sentinel`, each conf in a temp dir of its own: Sentinel rewrites it) on free ports, and waits
 * until every sentinel sees the primary, the linked replica and the other sentinels.
 */
export async function startRedisSentinel(opts: RedisSentinelOptions = {}): Promise<TestRedisSentinel> {
  const masterName = opts.masterName ?? "mymaster";
  const count = opts.sentinels ?? 3;
  const quorum = Math.floor(count / 2) + 1;
  const dir = await mkdtemp(join(tmpdir(), "orderstream-redis-sentinel-"));
  const taken = new Set<number>();
  const data: Proc[] = [];
  const sentinels: Proc[] = [];
  const clients: Redis[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const c of clients.splice(0)) c.disconnect();
      await Promise.all(
        [...sentinels, ...data].map(async (n) => {
          if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
          n.proc.kill("SIGTERM");
          const timer = setTimeout(() => n.proc.kill("SIGKILL"), 3000);
          await n.exited;
          clearTimeout(timer);
        }),
      );
      await rm(dir, { recursive: true, force: true });
    })());
  const dataArgs = (port: number, extra: string[]): string[] => [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--protected-mode",
    "no",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--dbfilename",
    `dump-${port}.rdb`,
    "--repl-diskless-sync",
    "yes",
    "--repl-diskless-sync-delay",
    "0",
    ...extra,
    ...(opts.extraArgs ?? []),
  ];
  try {
    const primary = await spawnServer(taken, async (p) => dataArgs(p, []), "the primary");
    data.push(primary);
    data.push(await spawnServer(taken, async (p) => dataArgs(p, ["--replicaof", "127.0.0.1", String(primary.port)]), "the replica"));
    const starts = Array.from({ length: count }, () =>
      spawnServer(
        taken,
        async (port) => {
          const conf = join(dir, `sentinel-${port}.conf`);
          await writeFile(
            conf,
            [
              `port ${port}`,
              "bind 127.0.0.1",
              "protected-mode no",
              `dir ${dir}`,
              `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} ${quorum}`,
              `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
              `sentinel failover-timeout ${masterName} 10000`,
              `sentinel parallel-syncs ${masterName} 1`,
              "",
            ].join("\n"),
          );
          return [conf, "--sentinel"];
        },
        "a sentinel",
      ),
    );
    sentinels.push(...(await Promise.all(starts)));
    const sentinelPorts = sentinels.map((s) => s.port);

    const notReady = async (): Promise<string | undefined> => {
      for (const port of sentinelPorts) {
        const m = fields(await ask(port, "SENTINEL", "MASTER", masterName));
        if (m.flags !== "master" || m["num-slaves"] !== "1" || m["num-other-sentinels"] !== String(count - 1)) {
          return `sentinel ${port}: flags ${m.flags} num-slaves ${m["num-slaves"]} num-other-sentinels ${m["num-other-sentinels"]}`;
        }
        const replicas = (await ask(port, "SENTINEL", "REPLICAS", masterName)) as unknown[];
        const r = fields(replicas[0]);
        if (r.flags !== "slave" || r["master-link-status"] !== "ok")
          return `sentinel ${port}: replica flags ${r.flags} link ${r["master-link-status"]}`;
      }
      return undefined;
    };
    const deadline = Date.now() + 30_000;
    for (
      let why = await notReady().catch((e: Error) => e.message);
      why !== undefined;
      why = await notReady().catch((e: Error) => e.message)
    ) {
      if (Date.now() > deadline) throw new Error(`sentinels not ready within 30 s (${why})`);
      await sleep(100);
    }

    const primaryPort = async (): Promise<number> => {
      let last: unknown;
      for (const port of sentinelPorts) {
        try {
          const addr = (await ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)) as string[];
          return Number(addr[1]);
        } catch (err) {
          last = err;
        }
      }
      throw new Error("no sentinel answered GET-MASTER-ADDR-BY-NAME", { cause: last });
    };
    /** Until every sentinel names a primary other than `from` and that node says role:master. */
    const waitSwitch = async (from: number, started: number, timeoutMs: number): Promise<SentinelFailover> => {
      for (;;) {
        const named = await Promise.all(
          sentinelPorts.map((p) =>
            ask(p, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName).then(
              (a) => Number((a as string[])[1]),
              () => -1,
            ),
          ),
        );
        const to = named[0] as number;
        if (to !== from && to > 0 && named.every((p) => p === to)) {
          const role = await ask(to, "ROLE").catch(() => undefined);
          if (Array.isArray(role) && role[0] === "master") return { from, to, ms: Date.now() - started };
        }
        if (Date.now() - started > timeoutMs)
          throw new Error(`no failover from ${from} within ${timeoutMs} ms (sentinels name ${named.join(", ")})`);
        await sleep(20);
      }
    };
    /**
     * Until the primary has a replica that is online and caught up (lag 0). Right after a
     * failover the old primary is not a replica yet (Sentinel converts it seconds later) though
     * Sentinel already lists it as one: failing over to it then would lose everything since.
     */
    const waitReplicaInSync = async (primary: number, timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const info = String(await ask(primary, "INFO", "replication").catch(() => ""));
        if (/^slave\d+:.*state=online.*lag=0/m.test(info)) return;
        if (Date.now() > deadline) throw new Error(`primary ${primary} has no replica in sync within ${timeoutMs} ms:\n${info}`);
        await sleep(50);
      }
    };
    const client = (): Redis => {
      const c = new Redis({
        sentinels: sentinelPorts.map((port) => ({ host: "127.0.0.1", port })),
        name: masterName,
        failoverDetector: true,
      });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    };
    return {
      url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(",")}/${masterName}`,
      masterName,
      dataPorts: data.map((d) => d.port),
      sentinelPorts,
      primaryPort,
      async failover(timeoutMs = 30_000) {
        const from = await primaryPort();
        await waitReplicaInSync(from, timeoutMs);
        const started = Date.now();
        // Refused with NOGOODSLAVE while the sentinels have not yet seen the replica since the
        // last switch (e.g. a second failover soon after the first): try again until it is taken.
        for (;;) {
          try {
            await ask(sentinelPorts[0] as number, "SENTINEL", "FAILOVER", masterName);
            break;
          } catch (err) {
            if (Date.now() - started > timeoutMs) throw err;
            await sleep(200);
          }
        }
        return waitSwitch(from, started, timeoutMs);
      },
      async killPrimary(timeoutMs = 30_000) {
        const from = await primaryPort();
        const victim = data.find((d) => d.port === from);
        if (!victim) throw new Error(`primary ${from} is not a process this helper started`);
        await waitReplicaInSync(from, timeoutMs);
        const started = Date.now();
        victim.proc.kill("SIGKILL");
        await victim.exited;
        return waitSwitch(from, started, timeoutMs);
      },
      client,
      nodeClient(port) {
        const c = new Redis({ host: "127.0.0.1", port });
        c.on("error", () => undefined);
        clients.push(c);
        return c;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
