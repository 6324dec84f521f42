export * from "./keys.js";
export * from "./redis-connection.js";
export * from "./redis-errors.js";
export * from "./history-options.js";
export * from "./order-store.js";
export * from "./history-reader.js";
export * from "./channel-subscriber.js";
export { CREATE_ORDER_LUA, TRANSITION_LUA, READ_HISTORY_LUA } from "./event-scripts.js";
