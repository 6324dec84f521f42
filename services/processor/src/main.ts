import { runService } from "@orderstream/bus";
import { envSchema, loadConfig } from "./config.js";
import { startProcessor } from "./processor.js";

/** The processor process: the service skeleton around the BullMQ workers. */
runService({
  name: "processor",
  loadConfig: () => loadConfig(),
  envSchema,
  start: (config, logger) => startProcessor(config, { logger, defaultMetrics: true }),
  ready: (processor) => ({ msg: "ready", fields: { healthPort: processor.healthPort, workers: processor.workers.length } }),
  stop: (processor) => processor.stop(),
});
