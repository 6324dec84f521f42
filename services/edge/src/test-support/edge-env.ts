import { type EdgeConfig, loadConfig } from "../config.js";

/** The JWT secret used by the edge tests. */
export const TEST_SECRET = "test-secret-please-change";

/** Environment for an edge node under test (port 0 = ephemeral for in-process nodes). */
export function edgeEnv(redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    AUTH_JWT_SECRET: TEST_SECRET,
    EDGE_HOST: "127.0.0.1",
    EDGE_PORT: "0",
    LOG_LEVEL: "warn",
    ANONYMOUS_ALL_ORDERS: "true",
    ORDER_API_URL: "127.0.0.1:1",
    // Every frame the node sends is checked against its JSON Schema (packages/wire); a mismatch exits.
    EDGE_VALIDATE_FRAMES: "true",
    ...extra,
  };
}

/** A parsed config for an in-process edge node. */
export function edgeConfig(redisUrl: string, extra: Record<string, string> = {}): EdgeConfig {
  return loadConfig(edgeEnv(redisUrl, extra));
}
