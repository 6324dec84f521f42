import { fileURLToPath } from "node:url";
import { loadConfigOrExit } from "@orderstream/bus";
import { type EdgeConfig, loadConfig } from "./config.js";
import { type EdgeNode, startEdge } from "./edge-server.js";
import { WorkerLink, startSupervisor } from "./edge-supervisor.js";
import { type Logger, createLogger } from "./logger.js";

/**
 * The edge process: config, start, `"msg":"ready"`, and one ordered, deadline-bound shutdown.
 * With EDGE_WORKERS > 1 it supervises that many edge processes on its port instead.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig());
  const log = createLogger(config.logLevel, config.nodeId);
  if (config.workers > 1 && config.workerIndex === undefined) return supervise(config, log);
  const worker = config.workerIndex !== undefined;
  let started: EdgeNode | undefined;
  const link = worker ? new WorkerLink(async () => (started ? started.metrics.registry.getMetricsAsJSON() : [])) : undefined;
  const edge = await startEdge(config, log, link ? { sharedPort: true, metricsText: () => link.groupMetrics() } : {});
  started = edge;

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    shuttingDown ??= (async () => {
      log.info({ signal }, "shutting down");
      // Leave a margin inside SHUTDOWN_TIMEOUT_MS for stop() and exit.
      const deadline = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), config.shutdownTimeoutMs - 500).unref());
      const steps = (async () => {
        try {
          await edge.drain();
        } catch (err) {
          log.error({ err }, "drain failed");
        }
        try {
          await edge.stop();
        } catch (err) {
          log.error({ err }, "stop failed");
        }
      })();
      const outcome = await Promise.race([steps.then(() => "done" as const), deadline]);
      if (outcome === "timeout") {
        log.warn("shutdown deadline hit; closing what is left");
        await Promise.race([edge.stop(), new Promise((r) => setTimeout(r, 300))]);
      }
      log.info("exit");
      process.exit(outcome === "timeout" ? 1 : 0);
    })();
    return shuttingDown;
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // A worker whose supervisor is gone drains and exits rather than run unsupervised.
  if (worker) process.on("disconnect", () => void shutdown("supervisor gone"));
  // Last: a supervisor may send SIGTERM the moment it reads this line, so the handlers come first.
  if (link) {
    link.ready(edge.port);
    log.info({ port: edge.port, worker: config.workerIndex }, "worker ready");
  } else {
    log.info({ port: edge.port }, "ready");
  }
}

/** EDGE_WORKERS > 1: start the workers, and stop them all (each draining) on SIGTERM / SIGINT. */
async function supervise(config: EdgeConfig, log: Logger): Promise<void> {
  const group = await startSupervisor(config, log, fileURLToPath(import.meta.url));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: config.workers }, "shutting down");
    void group.stop(signal).then((code) => {
      log.info({ code }, "exit");
      process.exit(code);
    });
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`edge failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
