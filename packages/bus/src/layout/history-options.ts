/** How much history each channel keeps (Centrifugo's history_size / history_ttl semantics). */
export interface HistoryOptions {
  /** Entries kept per channel stream (approximate trim, never fewer). */
  size: number;
  /** How long a channel's history is kept after its last publication. */
  ttlMs: number;
  /** How long a channel's epoch and sequence are kept after its last publication (>= ttlMs). */
  metaTtlMs: number;
}

/** Defaults used when a service does not configure history. */
export const DEFAULT_HISTORY: HistoryOptions = { size: 1000, ttlMs: 10 * 60_000, metaTtlMs: 24 * 3600_000 };

/** A fresh epoch: 8 random base-36 characters. */
export function newEpoch(): string {
  return Math.random().toString(36).slice(2, 10).padEnd(8, "0");
}
