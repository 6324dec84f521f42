export * from "./keys.js";
export * from "./partitions.js";
export * from "./redis-url.js";
export * from "./redis-connection.js";
export * from "./redis-errors.js";
export * from "./history-options.js";
export * from "./order-store.js";
export * from "./order-repair.js";
export * from "./event-writer.js";
export * from "./order-queues.js";
export * from "./history-reader.js";
export * from "./broker.js";
export * from "./redis-broker.js";
export * from "./memory-broker.js";
export {
  CHANNEL_APPEND_LUA,
  ORDER_CREATE_LUA,
  ORDER_TRANSITION_LUA,
  ORDER_CLAIM_LUA,
  ORDER_ACK_LUA,
  MARK_QUEUED_LUA,
  READ_HISTORY_LUA,
  STREAM_POSITION_LUA,
} from "./event-scripts.js";
export * from "./frame-cache.js";
export * from "./channel-stream.js";
export * from "./channel-feed.js";
export * from "./channel-history.js";
export * from "./service-env.js";
export * from "./service-main.js";
export * from "./order-job.js";
export * from "./ops-http.js";
