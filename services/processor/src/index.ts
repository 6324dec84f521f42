/** The processor as a library: start it in-process (tests, embedding) with a parsed config. */
export { startProcessor, type Processor, type StartOptions } from "./processor.js";
export { loadConfig, ConfigError, type ProcessorConfig } from "./config.js";
export { orderJobOptions, ORDER_JOB_NAME, JOB_BACKOFF_MS } from "@orderstream/bus";
export type { OrderJobData } from "./order-steps.js";
