import { loadConfigOrExit } from "@orderstream/bus";
import { loadConfig } from "./config.js";
import { startEdge } from "./edge-server.js";
import { createLogger } from "./logger.js";

/** The edge process: config, start, `"msg":"ready"`, and one ordered, deadline-bound shutdown. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig());
  const log = createLogger(config.logLevel, config.nodeId);
  const edge = await startEdge(config, log);

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
  // Last: a supervisor may send SIGTERM the moment it reads this line, so the handlers come first.
  log.info({ port: edge.port }, "ready");
}

main().catch((err: unknown) => {
  process.stderr.write(`edge failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
