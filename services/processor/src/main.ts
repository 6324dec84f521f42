import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { type Processor, startProcessor } from "./processor.js";

/** The processor process: parse config, start, and stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : String(err);
    process.stderr.write(`${JSON.stringify({ level: 60, service: "processor", msg: message })}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  let processor: Processor | undefined;
  let shuttingDown = false;

  const shutdown = (reason: string, exitCode: number): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ reason }, "shutting down");
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), config.shutdownTimeoutMs);
    });
    const stopped = (processor?.stop() ?? Promise.resolve()).then(() => "stopped" as const);
    void Promise.race([stopped, deadline]).then((outcome) => {
      clearTimeout(timer);
      if (outcome === "timeout") {
        logger.error({ shutdownTimeoutMs: config.shutdownTimeoutMs }, "shutdown deadline passed; exiting anyway");
        process.exit(1);
      }
      logger.info({ exitCode }, "exited");
      process.exit(exitCode);
    });
  };

  process.on("SIGTERM", () => shutdown("SIGTERM", 0));
  process.on("SIGINT", () => shutdown("SIGINT", 0));
  process.on("uncaughtException", (err) => {
    logger.fatal({ err }, "uncaught exception");
    shutdown("uncaughtException", 1);
  });
  process.on("unhandledRejection", (err) => {
    logger.fatal({ err }, "unhandled rejection");
    shutdown("unhandledRejection", 1);
  });

  try {
    processor = await startProcessor(config, { logger, defaultMetrics: true });
  } catch (err) {
    logger.fatal({ err }, "start-up failed");
    process.exit(1);
  }
  if (shuttingDown) void processor.stop();
}

void main();
