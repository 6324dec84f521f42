import { loadConfigOrExit } from "@orderstream/bus";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startOrderApi } from "./server.js";

/** Process entry: parse config, start, log ready, stop gracefully on SIGTERM/SIGINT within the deadline. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig());
  const log = createLogger(config.logLevel);
  const api = await startOrderApi(config, log);

  let exiting = false;
  const shutdown = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, "shutdown requested");
    const hardStop = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, "shutdown deadline passed; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs + 500);
    hardStop.unref();
    api.stop(config.shutdownTimeoutMs).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  // Last: a supervisor may send SIGTERM the moment it reads this line, so the handlers come first.
  log.info({ port: api.port, host: config.grpcHost, auth: config.authKeys ? "jwt" : "off", tls: config.tls !== undefined }, "ready");
}

main().catch((err: unknown) => {
  process.stderr.write(`order-api failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
