/**
 * Every WebSocket close code the edge uses, in one table, grouped like centrifuge-js `codes.ts`:
 * `reconnect` codes mean "the problem is on the server side or transient: reconnect with backoff
 * and resume from your last offsets"; `noReconnect` codes mean "reconnecting as-is will fail again:
 * fix the token / the client first". CLOSE_CODES.md holds the same table for the README.
 */
export const CLOSE_CODES = {
  reconnect: {
    /** 1001: the node is draining (deploy, scale-in); reconnect, preferably to another node. */
    goingAway: { code: 1001, reason: "going away" },
    /** 1006: abnormal closure, no close frame (network loss; also a frame over the size limit). */
    abnormal: { code: 1006, reason: "abnormal closure" },
    /** 1011: unexpected server error while serving this socket. */
    internalError: { code: 1011, reason: "internal error" },
    /** 4004: the client read too slowly and its send buffer passed the limit; resume from offsets. */
    slowConsumer: { code: 4004, reason: "slow consumer" },
    /** 4503: the node is shutting down before the drain finished (deadline hit). */
    shuttingDown: { code: 4503, reason: "shutting down" },
  },
  noReconnect: {
    /** 4001: the token is missing where required, invalid, expired or wrongly signed. */
    unauthorized: { code: 4001, reason: "unauthorized" },
    /** 4008: the client broke a policy (kept sending over the rate limit). */
    rateLimited: { code: 4008, reason: "rate limited" },
    /** 4400: the client speaks a protocol the edge does not understand (e.g. binary frames). */
    badRequest: { code: 4400, reason: "bad request" },
  },
} as const;

/** One entry of {@link CLOSE_CODES}. */
export interface CloseCode {
  readonly code: number;
  readonly reason: string;
}

const RECONNECT = new Set<number>(Object.values(CLOSE_CODES.reconnect).map((c) => c.code));

/** Whether a client should reconnect after a close with `code` (1000 normal closure: no). */
export function shouldReconnect(code: number): boolean {
  return RECONNECT.has(code);
}
