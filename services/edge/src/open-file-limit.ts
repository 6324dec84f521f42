import { readFileSync } from "node:fs";

/** Descriptors kept free for Redis, gRPC, logs and the listen socket. */
export const RESERVED_DESCRIPTORS = 256;

/** This process's soft limit on open files (`ulimit -n`), or undefined where /proc cannot tell. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === "unlimited") return undefined;
  return Number(m[1]);
}

/**
 * The connections a node can really hold: MAX_CONNECTIONS, capped below the open-file limit.
 * Past that limit accept() fails with EMFILE and uWS retries it in a busy loop, so the node would
 * spin a core instead of refusing upgrades with 503.
 */
export function effectiveMaxConnections(configured: number, limit = openFileLimit()): number {
  if (limit === undefined) return configured;
  return Math.max(1, Math.min(configured, limit - RESERVED_DESCRIPTORS));
}
