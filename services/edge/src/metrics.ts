import { registerBuildInfo } from "@orderstream/bus";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The edge's Prometheus metrics (`orderstream_edge_*`, plus the standard unprefixed `process_*` /
 * `nodejs_*`), on a registry of its own (several nodes may share a process in tests); every series
 * carries the node's `node` label, so an EDGE_WORKERS group's aggregate keeps one per worker.
 */
export class EdgeMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  readonly connections = new Gauge({
    name: "orderstream_edge_connections",
    help: "Open WebSocket connections of this node (one node per EDGE_WORKERS worker)",
    registers: this.registers,
  });
  /** The node's MAX_CONNECTIONS as it applies it (its share with EDGE_WORKERS, capped by the open-file limit). */
  readonly maxConnections = new Gauge({
    name: "orderstream_edge_max_connections",
    help: "Sockets this node accepts before it refuses upgrades with 503 (MAX_CONNECTIONS, its share with EDGE_WORKERS, capped by ulimit -n)",
    registers: this.registers,
  });
  readonly subscriptions = new Gauge({
    name: "orderstream_edge_subscriptions",
    help: "Socket-channel subscriptions",
    registers: this.registers,
  });
  readonly channels = new Gauge({
    name: "orderstream_edge_channels",
    help: "Channels with a Redis subscription on this node",
    registers: this.registers,
  });
  readonly messagesIn = new Counter({
    name: "orderstream_edge_messages_in_total",
    help: "Frames received from clients",
    registers: this.registers,
  });
  readonly messagesOut = new Counter({
    name: "orderstream_edge_messages_out_total",
    help: "Frames delivered to clients (a fan-out counts once per receiving socket; catch-up frames included)",
    registers: this.registers,
  });
  readonly eventsIn = new Counter({
    name: "orderstream_edge_events_in_total",
    help: "Bus events received from Redis",
    registers: this.registers,
  });
  readonly slowConsumersClosed = new Counter({
    name: "orderstream_edge_slow_consumers_closed_total",
    help: "Sockets closed with 4004 for reading too slowly",
    registers: this.registers,
  });
  readonly errors = new Counter({
    name: "orderstream_edge_errors_total",
    help: "Error frames and refusals by code",
    labelNames: ["code"] as const,
    registers: this.registers,
  });
  readonly resumes = new Counter({
    name: "orderstream_edge_resumes_total",
    help: "Channels subscribed with a resume position, by whether every missed frame was recovered",
    labelNames: ["recovered"] as const,
    registers: this.registers,
  });
  readonly fanoutSeconds = new Histogram({
    name: "orderstream_edge_fanout_duration_seconds",
    help: "Time from a bus event reaching the node to its publish to local sockets being done",
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
    registers: this.registers,
  });

  private readHistoryReads: () => number = () => 0;
  private historyReadsSeen = 0;
  /** Reads of channel history that reached Redis (resume backfills and gap repairs), a counter fed from the feed's tally at each scrape. */
  readonly historyReads: Counter = new Counter({
    name: "orderstream_edge_history_reads_total",
    help: "History reads that reached Redis (resume backfills and gap repairs; resumes served from memory do not count)",
    registers: this.registers,
    collect: (): void => {
      const now = this.readHistoryReads();
      if (now > this.historyReadsSeen) this.historyReads.inc(now - this.historyReadsSeen);
      this.historyReadsSeen = now;
    },
  });

  private redisReady: () => boolean = () => false;
  /** 1 while the node's Redis connections are ready, 0 otherwise. */
  readonly redisUp: Gauge = new Gauge({
    name: "orderstream_edge_redis_up",
    help: "1 while this node's Redis connections are ready, 0 otherwise",
    registers: this.registers,
    collect: (): void => this.redisUp.set(this.redisReady() ? 1 : 0),
  });

  /** Reports the growing tally `read()` as orderstream_edge_history_reads_total at every scrape. */
  trackHistoryReads(read: () => number): void {
    this.readHistoryReads = read;
  }

  /** Reports `ready()` as orderstream_edge_redis_up at every scrape. */
  trackRedis(ready: () => boolean): void {
    this.redisReady = ready;
  }

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry });
    registerBuildInfo(this.registry, "edge");
  }
}
