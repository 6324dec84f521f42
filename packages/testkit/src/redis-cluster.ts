import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { freePort } from "./free-port.js";

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Masters sharing the 16384 slots (at least 3, as `redis-cli --cluster create` needs). Default 3. */
  masters?: number;
  /** Replicas of each master. Default 1. */
  replicasPerMaster?: number;
  /** `requirepass` and `masterauth` of every node; then part of every URL. */
  password?: string;
  /** Appended to every `redis-server` command line. */
  extraArgs?: string[];
}

/** One node of a {@link TestRedisCluster}. */
export interface TestRedisClusterNode {
  port: number;
  /** `redis://[:password@]127.0.0.1:port`. */
  url: string;
}

/** A master and the slot ranges it serves (inclusive), as CLUSTER NODES reports them. */
export interface TestRedisClusterMaster {
  port: number;
  slots: [number, number][];
}

/** A real Redis Cluster of local `redis-server` processes started for a test, keeping nothing. */
export interface TestRedisCluster {
  /** Comma-separated URL of every node, masters first: a cluster `REDIS_URL`. */
  url: string;
  /** Every node, masters first (as created). */
  nodes: TestRedisClusterNode[];
  /** The current masters (they change after a failover), ordered by their first slot. */
  masters(): Promise<TestRedisClusterMaster[]>;
  /** An ioredis Cluster for assertions; closed by {@link stop}. */
  client(): Cluster;
  /** A plain connection to one node (for CLUSTER, INFO, DEBUG …); closed by {@link stop}. */
  nodeClient(port: number): Redis;
  /**
   * Kills the node on `port` (a process this helper started, by its PID) and resolves once it has
   * exited: `SIGKILL` for a crash, as in a failover test. The node is not restarted.
   */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Stops every node this helper started (SIGTERM, SIGKILL after 3 s) and removes its files. */
  stop(): Promise<void>;
}

/** Slots of a Redis Cluster. */
const SLOTS = 16384;
const NODE_START_TRIES = 5;
const READY_TIMEOUT_MS = 30_000;

interface NodeProcess {
  port: number;
  proc: ChildProcess;
  exited: Promise<void>;
  log(): string;
}

/** Every redis-server started here and still running: SIGKILLed if the test process exits first. */
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

function probe(port: number, password: string | undefined): Redis {
  const conn = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(password === undefined ? {} : { password }) });
  conn.on("error", () => undefined);
  return conn;
}

/** Runs one command on one node over a short-lived connection. */
async function ask(port: number, password: string | undefined, ...args: string[]): Promise<string> {
  const conn = probe(port, password);
  try {
    await conn.connect();
    const [cmd, ...rest] = args;
    return String(await conn.call(cmd as string, ...rest));
  } finally {
    conn.disconnect();
  }
}

async function distinctFreePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/** Spawns one cluster node; resolves once it answers PING, rejects if it exits first. */
async function spawnNode(dir: string, taken: Set<number>, opts: RedisClusterOptions): Promise<NodeProcess> {
  const port = await distinctFreePort(taken);
  const busPort = await distinctFreePort(taken);
  const auth = opts.password === undefined ? [] : ["--requirepass", opts.password, "--masterauth", opts.password];
  const args = ["--port", String(port), "--cluster-port", String(busPort), "--bind", "127.0.0.1", "--protected-mode", "no"];
  args.push("--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "2000");
  args.push("--save", "", "--appendonly", "no", "--dir", dir, ...auth, ...(opts.extraArgs ?? []));
  const proc = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  track(proc);
  let log = "";
  const keep = (d: Buffer): void => {
    log = (log + d.toString()).slice(-8000);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (gone) throw new Error(`redis-server on ${port} (bus ${busPort}) exited at start: ${log.trim().slice(-1500)}`);
    try {
      if ((await ask(port, opts.password, "PING")) === "PONG") break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`redis-server on ${port} did not answer PING within 10 s: ${log.trim().slice(-1500)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { port, proc, exited, log: () => log };
}

/** A node, retried on fresh ports: another test may bind a port between the check and the bind. */
async function startNode(dir: string, taken: Set<number>, opts: RedisClusterOptions): Promise<NodeProcess> {
  let last: unknown;
  for (let i = 0; i < NODE_START_TRIES; i++) {
    try {
      return await spawnNode(dir, taken, opts);
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`could not start a cluster node in ${NODE_START_TRIES} tries`, { cause: last });
}

function redisCli(args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile("redis-cli", args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, output: `${stdout}${stderr}${err ? `\n(${err.message})` : ""}`.trim() });
    });
  });
}

/** Parses CLUSTER NODES into the masters that are not failed, ordered by their first slot. */
export function parseClusterNodesMasters(text: string): TestRedisClusterMaster[] {
  const masters: TestRedisClusterMaster[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    const flags = (fields[2] ?? "").split(",");
    const port = /:(\d+)@/.exec(fields[1] ?? "")?.[1];
    if (port === undefined || !flags.includes("master") || flags.some((f) => f === "fail" || f === "noaddr")) continue;
    const slots = fields.slice(8).filter((s) => !s.startsWith("[")).map((s): [number, number] => {
      const [a, b] = s.split("-").map(Number);
      return [a as number, b ?? (a as number)];
    });
    masters.push({ port: Number(port), slots });
  }
  return masters.sort((x, y) => (x.slots[0]?.[0] ?? SLOTS) - (y.slots[0]?.[0] ?? SLOTS));
}

/** What is still missing for the cluster to be usable, or undefined once every node agrees. */
async function notReadyReason(ports: number[], password: string | undefined, masters: number): Promise<string | undefined> {
  for (const port of ports) {
    const info = await ask(port, password, "CLUSTER", "INFO");
    const field = (name: string): string => new RegExp(`^${name}:(\\S+)`, "m").exec(info)?.[1] ?? "?";
    if (field("cluster_state") !== "ok" || field("cluster_slots_ok") !== String(SLOTS) || field("cluster_known_nodes") !== String(ports.length)) {
      return `node ${port}: cluster_state:${field("cluster_state")} cluster_slots_ok:${field("cluster_slots_ok")} cluster_known_nodes:${field("cluster_known_nodes")}`;
    }
  }
  const nodes = await ask(ports[0] as number, password, "CLUSTER", "NODES");
  const found = parseClusterNodesMasters(nodes).length;
  if (found !== masters) return `${found} of ${masters} masters in CLUSTER NODES`;
  for (const line of nodes.split("\n").filter((l) => l.includes("slave"))) {
    const port = Number(/:(\d+)@/.exec(line)?.[1]);
    const repl = await ask(port, password, "INFO", "replication");
    if (!repl.includes("master_link_status:up")) return `replica ${port}: master link not up yet`;
  }
  return undefined;
}

/**
 * Starts a real Redis Cluster on free local ports: `redis-server --cluster-enabled yes` per node,
 * `redis-cli --cluster create`, then waits until every node reports all slots covered and every
 * replica is linked. Safe to run from several test files in parallel.
 */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`startRedisCluster: masters must be an integer >= 3 (got ${masters})`);
  if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`startRedisCluster: replicasPerMaster must be an integer >= 0 (got ${replicas})`);
  const dir = await mkdtemp(join(tmpdir(), "orderstream-redis-cluster-"));
  const taken = new Set<number>();
  const procs: NodeProcess[] = [];
  const clients: (Redis | Cluster)[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const c of clients.splice(0)) c.disconnect();
      await Promise.all(
        procs.map(async (n) => {
          if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
          n.proc.kill("SIGTERM");
          const timer = setTimeout(() => n.proc.kill("SIGKILL"), 3000);
          await n.exited;
          clearTimeout(timer);
        }),
      );
      await rm(dir, { recursive: true, force: true });
    })());
  try {
    const total = masters * (1 + replicas);
    procs.push(...(await Promise.all(Array.from({ length: total }, () => startNode(dir, taken, opts)))));
    const ports = procs.map((n) => n.port);
    const auth = opts.password === undefined ? [] : ["-a", opts.password, "--no-auth-warning"];
    const created = await redisCli([...auth, "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicas), "--cluster-yes"]);
    if (!created.ok) throw new Error(`redis-cli --cluster create failed:\n${created.output}`);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const reason = await notReadyReason(ports, opts.password, masters).catch((err: Error) => `error: ${err.message}`);
      if (reason === undefined) break;
      if (Date.now() > deadline) throw new Error(`cluster not ready within ${READY_TIMEOUT_MS} ms (${reason}); redis-cli said:\n${created.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const masterPorts = new Set(parseClusterNodesMasters(await ask(ports[0] as number, opts.password, "CLUSTER", "NODES")).map((m) => m.port));
    const ordered = [...ports.filter((p) => masterPorts.has(p)), ...ports.filter((p) => !masterPorts.has(p))];
    const userinfo = opts.password === undefined ? "" : `:${encodeURIComponent(opts.password)}@`;
    const nodes = ordered.map((port) => ({ port, url: `redis://${userinfo}127.0.0.1:${port}` }));
    const password = opts.password === undefined ? {} : { password: opts.password };
    return {
      url: nodes.map((n) => n.url).join(","),
      nodes,
      async masters() {
        let last: unknown;
        for (const { port } of nodes) {
          try {
            return parseClusterNodesMasters(await ask(port, opts.password, "CLUSTER", "NODES"));
          } catch (err) {
            last = err; // that node may be down: ask the next one
          }
        }
        throw new Error("no cluster node answered CLUSTER NODES", { cause: last });
      },
      client() {
        const c = new Cluster(nodes.map(({ port }) => ({ host: "127.0.0.1", port })), { redisOptions: password });
        c.on("error", () => undefined);
        clients.push(c);
        return c;
      },
      nodeClient(port) {
        const c = new Redis({ host: "127.0.0.1", port, ...password });
        c.on("error", () => undefined);
        clients.push(c);
        return c;
      },
      async kill(port, signal = "SIGKILL") {
        const node = procs.find((n) => n.port === port);
        if (node === undefined) throw new Error(`no cluster node of this helper on port ${port}`);
        if (node.proc.exitCode !== null || node.proc.signalCode !== null) return;
        node.proc.kill(signal);
        await node.exited;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
