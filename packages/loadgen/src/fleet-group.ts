import { cpus } from "node:os";
import type { AnnouncedOrder } from "./delivery-tracker.js";
import { mergeDelivery } from "./delivery-tracker.js";
import { type DeltaSink, type FleetHandle, ForkedFleet, LocalFleet } from "./fleet-handle.js";
import type { FleetSpec } from "./socket-fleet.js";
import { splitRange } from "./socket-plan.js";
import { planSourceAddresses } from "./target.js";
import type { DeliveryReport, ScenarioOptions } from "./types.js";

/** Most sockets one worker process is given (the descriptor limit here is 20,000). */
export const MAX_SOCKETS_PER_PROCESS = 18_000;

/** Worker processes for `sockets`: explicit, or auto (in-process up to 2,000; else by fd limit and CPUs). */
export function resolveWorkers(setting: number | "auto", sockets: number): number {
  if (setting !== "auto") return setting;
  if (sockets <= 2000) return 0;
  return Math.max(Math.ceil(sockets / MAX_SOCKETS_PER_PROCESS), Math.min(cpus().length, Math.ceil(sockets / 5000)));
}

/** All socket fleets of a run, spread over worker processes (or one in-process fleet). */
export class FleetGroup {
  readonly fleets: FleetHandle[] = [];
  private pending: AnnouncedOrder[] = [];

  /** `socketStart`: the global number of this run's (or slice's) first socket. */
  constructor(opts: ScenarioOptions, trackDelivery: boolean, sink: DeltaSink, workerEntry?: string, socketStart = 0) {
    const workers = resolveWorkers(opts.workers, opts.sockets);
    const parts = splitRange(opts.sockets, Math.max(1, workers));
    const sourceAddresses = planSourceAddresses(opts.localAddresses, opts.urls, opts.sockets, opts.socketsPerAddress);
    parts.forEach((part, i) => {
      const spec: FleetSpec = {
        plan: { urls: opts.urls, channels: opts.channels, userRatio: opts.userRatio, users: opts.users },
        start: socketStart + part.start,
        count: part.count,
        ...(opts.token !== undefined ? { token: opts.token } : {}),
        ...(opts.jwtSecret !== undefined ? { jwtSecret: opts.jwtSecret } : {}),
        sourceAddresses,
        socketsPerAddress: opts.socketsPerAddress,
        rampPerS: Math.max(1, opts.rampPerS / parts.length),
        trackDelivery,
        handshakeTimeoutMs: 10_000,
      };
      const id = `w${i}`;
      this.fleets.push(workers === 0 ? new LocalFleet(id, spec, sink) : new ForkedFleet(id, spec, sink, workerEntry));
    });
  }

  /** Number of worker processes (0 = in-process). */
  get workerCount(): number {
    return this.fleets.filter((f) => f instanceof ForkedFleet).length;
  }

  get settled(): boolean {
    return this.fleets.every((f) => f.settled);
  }

  start(): void {
    for (const f of this.fleets) f.start();
  }

  /** Collects in-process deltas now (called by the driver's once-a-second tick). */
  poll(): void {
    for (const f of this.fleets) f.poll();
  }

  /** Every fleet opens no more sockets. */
  hold(): void {
    for (const f of this.fleets) f.hold();
  }

  /** Queues an order for every fleet; sent in batches by {@link flush}. */
  announce(order: AnnouncedOrder): void {
    this.pending.push(order);
  }

  /** Sends queued announcements to every fleet. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    for (const f of this.fleets) f.announce(batch);
  }

  /** Stops every fleet; the merged delivery report when fleets tracked delivery. */
  async stop(graceMs: number): Promise<DeliveryReport | undefined> {
    this.flush();
    const reports = await Promise.all(this.fleets.map((f) => f.stop(graceMs)));
    // a worker that died reports nothing here; it is counted as the error "worker_failed"
    const got = reports.filter((r): r is DeliveryReport => r !== undefined);
    return got.length > 0 ? mergeDelivery(got) : undefined;
  }
}
