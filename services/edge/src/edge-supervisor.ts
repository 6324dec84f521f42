import { type ChildProcess, fork } from "node:child_process";
import { createServer } from "node:net";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { EdgeConfig } from "./config.js";
import type { Logger } from "./logger.js";

/** A worker's metrics as prom-client's `getMetricsAsJSON()` gives them. */
export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** IPC from a worker to its supervisor. */
export type WorkerToSupervisor =
  | { type: "ready"; port: number }
  | { type: "metrics-request"; id: number }
  | { type: "metrics"; id: number; metrics: WorkerMetrics };

/** IPC from the supervisor to a worker. */
export type SupervisorToWorker = { type: "metrics-collect"; id: number } | { type: "metrics-reply"; id: number; text: string };

/** First restart delay of a worker that died; doubles per quick death, up to the maximum. */
const RESTART_BASE_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A worker that ran this long before dying starts again from the first delay. */
const STABLE_AFTER_MS = 30_000;
/** How long gathering the group's metrics waits for the workers' answers. */
const METRICS_TIMEOUT_MS = 2000;

interface Worker {
  index: number;
  proc: ChildProcess;
  startedAt: number;
  ready: boolean;
  restarts: number;
}

/** A running EDGE_WORKERS group. */
export interface EdgeSupervisor {
  port: number;
  /** PIDs of the live workers, by index. */
  pids(): (number | undefined)[];
  /** Stops every worker with `signal` (each drains), SIGKILL after the deadline; resolves an exit code. */
  stop(signal: NodeJS.Signals): Promise<number>;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Runs `config.workers` edge processes (this entry point again, with EDGE_WORKER_INDEX set) on one
 * port: each listens with SO_REUSEPORT and the kernel spreads new connections over them. The
 * supervisor restarts a worker that dies (with backoff), answers the workers' `/metrics` with the
 * whole group's metrics (each worker's series labelled with its `node`), logs `ready` once every
 * worker is ready, and on stop has every worker drain its sockets.
 */
export async function startSupervisor(config: EdgeConfig, log: Logger, entry: string): Promise<EdgeSupervisor> {
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const workers: Worker[] = [];
  let stopping = false;
  let announced = false;
  let nextRequest = 1;
  const gathering = new Map<number, { want: number; got: WorkerMetrics[]; done: (text: string) => void }>();

  const send = (w: Worker, msg: SupervisorToWorker): void => {
    if (w.proc.connected) w.proc.send(msg);
  };

  /** The group's metrics, gathered from every live worker and aggregated (series keep their `node` label). */
  const groupMetrics = (): Promise<string> =>
    new Promise((resolve) => {
      const id = nextRequest++;
      const live = workers.filter((w) => w.proc.connected && w.ready);
      const finish = async (): Promise<void> => {
        const entry = gathering.get(id);
        if (!entry) return;
        gathering.delete(id);
        clearTimeout(timer);
        resolve(await AggregatorRegistry.aggregate(entry.got).metrics());
      };
      const timer = setTimeout(() => void finish(), METRICS_TIMEOUT_MS);
      gathering.set(id, { want: live.length, got: [], done: () => void finish() });
      for (const w of live) send(w, { type: "metrics-collect", id });
      if (live.length === 0) void finish();
    });

  const start = (index: number, restarts: number): void => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      EDGE_WORKER_INDEX: String(index),
      EDGE_WORKERS: "1",
      EDGE_PORT: String(port),
      NODE_ID: `${config.nodeId}-w${index}`,
      // MAX_CONNECTIONS is the node's: each worker takes its share.
      MAX_CONNECTIONS: String(Math.max(1, Math.ceil(config.maxConnections / config.workers))),
    };
    const proc = fork(entry, [], { env, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const w: Worker = { index, proc, startedAt: Date.now(), ready: false, restarts };
    workers[index] = w;
    log.info({ worker: index, pid: proc.pid, restarts }, "worker started");
    proc.on("message", (raw) => {
      const msg = raw as WorkerToSupervisor;
      if (msg.type === "ready") {
        w.ready = true;
        if (!announced && workers.length === config.workers && workers.every((x) => x.ready)) {
          announced = true;
          log.info({ port, workers: config.workers, pids: workers.map((x) => x.proc.pid) }, "ready");
        }
      } else if (msg.type === "metrics-request") {
        void groupMetrics().then((text) => send(w, { type: "metrics-reply", id: msg.id, text }));
      } else if (msg.type === "metrics") {
        const entry = gathering.get(msg.id);
        if (!entry) return;
        entry.got.push(msg.metrics);
        if (entry.got.length >= entry.want) entry.done("");
      }
    });
    proc.on("error", (err) => log.error({ err, worker: index }, "worker process error"));
    proc.once("exit", (code, signal) => {
      if (workers[index] === w) w.ready = false;
      if (stopping) return;
      const stable = Date.now() - w.startedAt >= STABLE_AFTER_MS;
      const next = stable ? 0 : w.restarts + 1;
      const delay = stable ? RESTART_BASE_MS : Math.min(RESTART_BASE_MS * 2 ** w.restarts, RESTART_MAX_MS);
      log.error({ worker: index, pid: proc.pid, code, signal, restartInMs: delay }, "worker died; restarting it");
      setTimeout(() => {
        if (!stopping) start(index, next);
      }, delay);
    });
  };

  for (let i = 0; i < config.workers; i++) start(i, 0);

  const stop = async (signal: NodeJS.Signals): Promise<number> => {
    stopping = true;
    const live = workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null);
    const exits = live.map(
      (w) => new Promise<number>((resolve) => w.proc.once("exit", (code) => resolve(code ?? 1))),
    );
    for (const w of live) w.proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), config.shutdownTimeoutMs);
    });
    const outcome = await Promise.race([Promise.all(exits), deadline]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      log.warn("workers still running at the shutdown deadline; killing them");
      for (const w of live) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
      return 1;
    }
    return outcome.every((c) => c === 0) ? 0 : 1;
  };

  return { port, pids: () => workers.map((w) => (w.proc.exitCode === null ? w.proc.pid : undefined)), stop };
}

/**
 * The worker's side of the IPC: reports ready, answers the supervisor's metrics collection with
 * this worker's metrics, and asks the supervisor for the group's metrics when `/metrics` is hit.
 */
export class WorkerLink {
  private nextId = 1;
  private readonly pending = new Map<number, (text: string) => void>();

  constructor(private readonly ownMetrics: () => Promise<WorkerMetrics>) {
    process.on("message", (raw) => {
      const msg = raw as SupervisorToWorker;
      if (msg.type === "metrics-collect") {
        void this.ownMetrics().then((metrics) => this.send({ type: "metrics", id: msg.id, metrics }));
      } else if (msg.type === "metrics-reply") {
        this.pending.get(msg.id)?.(msg.text);
        this.pending.delete(msg.id);
      }
    });
  }

  private send(msg: WorkerToSupervisor): void {
    if (process.connected && process.send) process.send(msg);
  }

  /** Tells the supervisor this worker listens and is ready. */
  ready(port: number): void {
    this.send({ type: "ready", port });
  }

  /** The whole group's metrics text, through the supervisor. */
  groupMetrics(): Promise<string> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("the supervisor did not answer with the group's metrics"));
      }, METRICS_TIMEOUT_MS + 1000);
      this.pending.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      this.send({ type: "metrics-request", id });
    });
  }
}
