export * from "./free-port.js";
export * from "./redis-server.js";
export * from "./service-process.js";
export * from "./wait-until.js";
export * from "./local-cluster.js";
export * from "./test-token.js";
export * from "./redis-cluster.js";
export * from "./redis-sentinel.js";
