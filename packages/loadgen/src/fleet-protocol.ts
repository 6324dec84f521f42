import type { AnnouncedOrder } from "./delivery-tracker.js";
import type { FleetSpec } from "./socket-fleet.js";
import type { StatsDelta } from "./stats.js";
import type { DeliveryReport } from "./types.js";

/** The CLI argument that turns a forked `cli.js` into a socket worker. */
export const WORKER_FLAG = "--worker";

/** Parent → worker messages. */
export type ToWorker =
  | { type: "start"; spec: FleetSpec }
  | { type: "announce"; orders: AnnouncedOrder[] }
  | { type: "hold" }
  | { type: "stop"; graceMs: number };

/** Worker → parent messages. */
export type FromWorker =
  | { type: "tick"; delta: StatsDelta; settled: boolean }
  | { type: "done"; delta: StatsDelta; delivery: DeliveryReport | undefined }
  | { type: "failed"; message: string };
