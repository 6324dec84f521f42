import { envInt } from "../runtime/service-env.js";
import type { HistoryOptions } from "./history-options.js";
import { DEFAULT_PARTITIONS, MAX_PARTITIONS } from "./partitions.js";

// The variables of the data layout every service must agree on: history and partitions.

const DAY_MS = 24 * 3600_000;

/** The HISTORY_* variables every service reads (see {@link HistoryOptions}). */
export const historyEnv = {
  HISTORY_SIZE: envInt(1, 10_000_000, 1000).describe("Events kept per channel stream (what a reconnecting client can resume from)"),
  HISTORY_TTL_MS: envInt(1000, 365 * DAY_MS, 600_000).describe("How long a channel's history is kept after its last event"),
  HISTORY_META_TTL_MS: envInt(1000, 3650 * DAY_MS, DAY_MS).describe(
    "How long a channel's epoch and sequence are kept after its last event (at least HISTORY_TTL_MS)",
  ),
};

/** A channel's epoch must outlive its history: HISTORY_META_TTL_MS >= HISTORY_TTL_MS. */
export const historyTtlRule: [
  (c: { HISTORY_TTL_MS: number; HISTORY_META_TTL_MS: number }) => boolean,
  { path: string[]; message: string },
] = [(c) => c.HISTORY_META_TTL_MS >= c.HISTORY_TTL_MS, { path: ["HISTORY_META_TTL_MS"], message: "must be at least HISTORY_TTL_MS" }];

/** The parsed HISTORY_* variables as the bus's {@link HistoryOptions}. */
export function historyFromEnv(c: { HISTORY_SIZE: number; HISTORY_TTL_MS: number; HISTORY_META_TTL_MS: number }): HistoryOptions {
  return { size: c.HISTORY_SIZE, ttlMs: c.HISTORY_TTL_MS, metaTtlMs: c.HISTORY_META_TTL_MS };
}

/** `PARTITIONS`: the write path's partitions, the same in every service. */
export const partitionEnv = {
  PARTITIONS: envInt(1, MAX_PARTITIONS, DEFAULT_PARTITIONS).describe(
    "Write-path partitions, each in its own slot; the same in every service, fixed while orders are live (docs/scaling.md)",
  ),
};
