import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The edge's Prometheus metrics, on a registry of its own (several nodes may share a process in tests). */
export class EdgeMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: "edge_connections", help: "Open WebSocket connections", registers: [this.registry] });
  readonly subscriptions = new Gauge({
    name: "edge_subscriptions",
    help: "Socket-channel subscriptions",
    registers: [this.registry],
  });
  readonly channels = new Gauge({
    name: "edge_channels",
    help: "Channels with a Redis subscription on this node",
    registers: [this.registry],
  });
  readonly messagesIn = new Counter({ name: "edge_messages_in_total", help: "Frames received from clients", registers: [this.registry] });
  readonly messagesOut = new Counter({
    name: "edge_messages_out_total",
    help: "Frames sent to clients (a fan-out counts once per receiving socket)",
    registers: [this.registry],
  });
  readonly eventsIn = new Counter({ name: "edge_events_in_total", help: "Bus events received from Redis", registers: [this.registry] });
  readonly slowConsumersClosed = new Counter({
    name: "edge_slow_consumers_closed_total",
    help: "Sockets closed with 4004 for reading too slowly",
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "edge_errors_total",
    help: "Error frames and refusals by code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly fanoutSeconds = new Histogram({
    name: "edge_fanout_seconds",
    help: "Time from a bus event reaching the node to its publish to local sockets being done",
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });

  private readHistoryReads: () => number = () => 0;
  /** Reads of channel history that reached Redis (resume backfills and gap repairs). */
  readonly historyReads: Gauge = new Gauge({
    name: "edge_history_reads",
    help: "History reads that reached Redis since start (resume backfills and gap repairs; resumes served from memory do not count)",
    registers: [this.registry],
    collect: (): void => this.historyReads.set(this.readHistoryReads()),
  });

  /** Reports `read()` as edge_history_reads at every scrape. */
  trackHistoryReads(read: () => number): void {
    this.readHistoryReads = read;
  }

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry });
  }
}
