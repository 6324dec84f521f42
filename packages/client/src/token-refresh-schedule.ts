/**
 * How long from `nowMs` to send `refresh` for a token expiring at `expS`: `marginMs` before its
 * expiry, but never later than half its remaining life (a short-lived token is not refreshed in a
 * loop) and never negative.
 */
export function refreshDelayMs(expS: number, nowMs: number, marginMs: number): number {
  const left = expS * 1000 - nowMs;
  return Math.max(0, Math.max(left - marginMs, left / 2));
}
