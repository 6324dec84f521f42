// The bus's public face, by subsystem. Test-only backends (the in-memory broker) are exported
// from "@orderstream/bus/testing", never from here.

// The service runtime: Redis URLs and connections, errors, env parsing, the process skeleton.
export * from "./runtime/redis-url.js";
export * from "./runtime/redis-connection.js";
export * from "./runtime/redis-errors.js";
export * from "./runtime/service-env.js";
export * from "./runtime/service-main.js";
export * from "./runtime/service-cli.js";
export * from "./runtime/env-reference.js";
export * from "./runtime/build-info.js";
export * from "./runtime/ops-http.js";
export * from "./runtime/redis-memory.js";

// The data layout: key names, partitions, history options, the layout version.
export * from "./layout/keys.js";
export * from "./layout/partitions.js";
export * from "./layout/history-options.js";
export * from "./layout/layout-version.js";
export * from "./layout/layout-env.js";

// The write path: one script per event, and the due set it keeps.
export * from "./write/order-store.js";
export * from "./write/due-orders.js";

// The read path: the broker contract and its Redis backend, channel feeds, history.
export * from "./read/broker.js";
export * from "./read/redis-broker.js";
export * from "./read/history-reader.js";
export * from "./read/frame-cache.js";
export * from "./read/channel-stream.js";
export * from "./read/channel-feed.js";
export * from "./read/channel-history.js";

// The order queues (BullMQ, one per partition).
export * from "./queues/order-queues.js";
export * from "./queues/order-job.js";

// Operations: the node registry (every process's heartbeat) and the edges' control channel.
export * from "./admin/node-registry.js";
export * from "./admin/control-channel.js";
