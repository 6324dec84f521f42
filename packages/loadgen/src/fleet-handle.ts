import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AnnouncedOrder } from "./delivery-tracker.js";
import { type FromWorker, type ToWorker, WORKER_FLAG } from "./fleet-protocol.js";
import { type FleetSpec, SocketFleet } from "./socket-fleet.js";
import { StatsCollector, type StatsDelta } from "./stats.js";
import type { DeliveryReport } from "./types.js";

/** Receives each stats delta of a fleet, tagged with the fleet's id. */
export type DeltaSink = (fleetId: string, delta: StatsDelta) => void;

/** A range of sockets run in this process or in a forked worker; the driver treats both alike. */
export interface FleetHandle {
  readonly id: string;
  /** Every socket subscribed or failed (as of the last report). */
  readonly settled: boolean;
  start(): void;
  /** Hands the latest delta to the sink now (in-process fleets; workers push their own). */
  poll(): void;
  announce(orders: AnnouncedOrder[]): void;
  /** Opens no more sockets. */
  hold(): void;
  /** Closes the sockets; the final delta reaches the sink before this resolves. */
  stop(graceMs: number): Promise<DeliveryReport | undefined>;
}

/** Runs the fleet inside this process. */
export class LocalFleet implements FleetHandle {
  private readonly fleet: SocketFleet;

  constructor(readonly id: string, spec: FleetSpec, private readonly sink: DeltaSink) {
    this.fleet = new SocketFleet(spec);
  }

  get settled(): boolean {
    return this.fleet.settled;
  }

  start(): void {
    this.fleet.start();
  }

  poll(): void {
    this.sink(this.id, this.fleet.stats.takeDelta());
  }

  announce(orders: AnnouncedOrder[]): void {
    this.fleet.announce(orders);
  }

  hold(): void {
    this.fleet.hold();
  }

  async stop(graceMs: number): Promise<DeliveryReport | undefined> {
    const report = await this.fleet.stop(graceMs);
    this.sink(this.id, this.fleet.stats.takeDelta());
    this.fleet.stats.dispose();
    return report;
  }
}

/** The CLI file forked for workers (dist/cli.js next to this module). */
export function defaultWorkerEntry(): string {
  return fileURLToPath(new URL("./cli.js", import.meta.url));
}

/** Runs the fleet in a forked `cli.js --worker` process (its own descriptor limit and CPU). */
export class ForkedFleet implements FleetHandle {
  private readonly child: ChildProcess;
  private isSettled = false;
  private done: Promise<DeliveryReport | undefined>;
  private resolveDone!: (r: DeliveryReport | undefined) => void;
  private finished = false;

  constructor(readonly id: string, private readonly spec: FleetSpec, private readonly sink: DeltaSink, entry = defaultWorkerEntry()) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.child = fork(entry, [WORKER_FLAG], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (raw: unknown) => this.onMessage(raw as FromWorker));
    this.child.on("exit", (code, signal) => {
      if (!this.finished) {
        this.failed(`worker ${id} exited early (code ${code ?? "-"}, signal ${signal ?? "-"})`);
      }
    });
    this.child.on("error", (err) => this.failed(`worker ${id}: ${err.message}`));
  }

  get settled(): boolean {
    return this.isSettled || this.finished;
  }

  private failed(message: string): void {
    process.stderr.write(`orderstream-load: ${message}\n`);
    const s = new StatsCollector();
    s.error("worker_failed");
    this.sink(this.id, s.takeDelta());
    s.dispose();
    this.finished = true;
    this.resolveDone(undefined);
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === "tick") {
      this.isSettled = msg.settled;
      this.sink(this.id, msg.delta);
    } else if (msg.type === "done") {
      this.sink(this.id, msg.delta);
      this.finished = true;
      this.resolveDone(msg.delivery);
    } else if (msg.type === "failed") {
      this.failed(msg.message);
    }
  }

  private post(msg: ToWorker): void {
    if (!this.finished && this.child.connected) this.child.send(msg);
  }

  start(): void {
    this.post({ type: "start", spec: this.spec });
  }

  poll(): void {
    // workers push a delta every second on their own
  }

  announce(orders: AnnouncedOrder[]): void {
    this.post({ type: "announce", orders });
  }

  hold(): void {
    this.post({ type: "hold" });
  }

  async stop(graceMs: number): Promise<DeliveryReport | undefined> {
    this.post({ type: "stop", graceMs });
    const timer = setTimeout(() => {
      if (!this.finished) {
        this.child.kill("SIGKILL");
        this.failed(`worker ${this.id} did not finish within ${graceMs + 10_000} ms; killed`);
      }
    }, graceMs + 10_000);
    const report = await this.done;
    clearTimeout(timer);
    return report;
  }
}
