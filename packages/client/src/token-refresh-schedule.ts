/**
 * The `exp` claim (epoch seconds) of a JWT, read WITHOUT verifying it (the edge verifies; the SDK
 * only needs to know when to refresh); undefined for anything that is not a JWT with a numeric exp.
 */
export function tokenExp(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  const part = token.split(".")[1];
  if (part === undefined || part === "" || !/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (part.length % 4)) % 4);
    const claims: unknown = JSON.parse(atob(b64));
    const exp = typeof claims === "object" && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
    return typeof exp === "number" && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long from `nowMs` to send `refresh` for a token expiring at `expS`: `marginMs` before its
 * expiry, but never later than half its remaining life (a short-lived token is not refreshed in a
 * loop) and never negative.
 */
export function refreshDelayMs(expS: number, nowMs: number, marginMs: number): number {
  const left = expS * 1000 - nowMs;
  return Math.max(0, Math.max(left - marginMs, left / 2));
}
