export * from "./order-stream-client.js";
export * from "./client-events.js";
export * from "./client-options.js";
export * from "./client-errors.js";
export * from "./protocol.js";
export * from "./close-codes.js";
export * from "./backoff.js";
export * from "./offset-tracker.js";
