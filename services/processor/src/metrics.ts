import { Counter, Registry, collectDefaultMetrics } from "prom-client";

/** The processor's Prometheus metrics, on a registry of its own (one per started processor). */
export interface ProcessorMetrics {
  registry: Registry;
  /** Status transitions this processor applied, by the status they led to. */
  transitions: Counter<"to">;
  /** Job attempts that failed, `final` = no retry left. */
  jobsFailed: Counter<"final">;
  /** Order batches the outbox sweeper found stored but not queued, and queued. */
  outboxSwept: Counter;
  /** Orders whose half-done events (writer died between the steps) the sweeper completed. */
  eventsRepaired: Counter;
  /** Outbox sweeps that failed (Redis errors). */
  outboxErrors: Counter;
}

/** Creates the metrics; `defaults` adds Node's process metrics (off for in-process tests). */
export function createMetrics(defaults: boolean): ProcessorMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: "orderstream_processor_" });
  return {
    registry,
    transitions: new Counter({
      name: "orderstream_processor_transitions_total",
      help: "Order status transitions applied by the processor, by target status.",
      labelNames: ["to"],
      registers: [registry],
    }),
    jobsFailed: new Counter({
      name: "orderstream_processor_jobs_failed_total",
      help: "Order job attempts that failed; final=true when no retry is left.",
      labelNames: ["final"],
      registers: [registry],
    }),
    outboxSwept: new Counter({
      name: "orderstream_processor_outbox_swept_total",
      help: "Order batches found in the job outbox (stored but never queued) and queued by the sweeper.",
      registers: [registry],
    }),
    eventsRepaired: new Counter({
      name: "orderstream_processor_events_repaired_total",
      help: "Orders whose events were left half-done by a dead writer and completed by the repair sweep.",
      registers: [registry],
    }),
    outboxErrors: new Counter({
      name: "orderstream_processor_outbox_sweep_errors_total",
      help: "Outbox sweeps that failed.",
      registers: [registry],
    }),
  };
}
