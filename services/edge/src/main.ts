import { fileURLToPath } from "node:url";
import { runService } from "@orderstream/bus";
import { type EdgeConfig, envSchema, loadConfig } from "./config.js";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { type EdgeSupervisor, WorkerLink, startSupervisor } from "./edge-supervisor.js";
import type { Logger } from "./logger.js";

/** One edge process, or (EDGE_WORKERS > 1) the supervisor of that many on its port. */
type EdgeProcess = { kind: "node"; edge: EdgeNode; link: WorkerLink | undefined } | { kind: "group"; group: EdgeSupervisor };

/**
 * The edge process: the service skeleton around one edge node (drained, then stopped, on SIGTERM),
 * or around a supervisor of EDGE_WORKERS edge processes on one port.
 */
runService<EdgeConfig, EdgeProcess>({
  name: "edge",
  loadConfig: () => loadConfig(),
  envSchema,
  logFields: (config) => ({ node: config.nodeId }),
  start: async (config, log) => {
    if (config.workers > 1 && config.workerIndex === undefined) {
      return { kind: "group", group: await startSupervisor(config, log as Logger, fileURLToPath(import.meta.url)) };
    }
    let started: EdgeNode | undefined;
    const link =
      config.workerIndex !== undefined
        ? new WorkerLink(async () => (started ? started.metrics.registry.getMetricsAsJSON() : []))
        : undefined;
    started = await startEdge(config, log as Logger, link ? { sharedPort: true, metricsText: () => link.groupMetrics() } : {});
    return { kind: "node", edge: started, link };
  },
  onStarted: (p, shutdown) => {
    // A worker whose supervisor is gone drains and exits rather than run unsupervised.
    if (p.kind === "node" && p.link) process.on("disconnect", () => shutdown("supervisor gone"));
  },
  ready: (p, config) => {
    // The supervisor says `ready` itself, once every worker is.
    if (p.kind === "group") return { msg: "supervising", fields: { workers: config.workers } };
    if (!p.link) return { msg: "ready", fields: { port: p.edge.port } };
    p.link.ready(p.edge.port);
    return { msg: "worker ready", fields: { port: p.edge.port, worker: config.workerIndex } };
  },
  stop: async (p, reason) => {
    if (p.kind === "group") return p.group.stop(reason === "SIGINT" ? "SIGINT" : "SIGTERM");
    await p.edge.drain();
    await p.edge.stop();
  },
});
