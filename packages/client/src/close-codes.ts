/**
 * The edge's WebSocket close codes as the SDK reads them (mirrors services/edge/src/close-codes.ts
 * and CLOSE_CODES.md). Anything not listed as "don't reconnect" is treated as transient.
 */
export const CLOSE_CODES = {
  /** 1000: normal closure (the client or the server ended the session on purpose). */
  normal: 1000,
  /** 1001: the node is draining; reconnect (to another node) and resume. */
  goingAway: 1001,
  /** 1006: abnormal closure (network loss, node crash, or an HTTP refusal at upgrade). */
  abnormal: 1006,
  /** 1011: unexpected server error on this socket. */
  internalError: 1011,
  /** 4004: the client read too slowly; reconnect and resume from offsets. */
  slowConsumer: 4004,
  /** 4503: the node shut down before its drain finished. */
  shuttingDown: 4503,
  /** 4001: token invalid or expired: reconnecting unchanged fails again. */
  unauthorized: 4001,
  /** 4008: the client kept sending over the rate limit. */
  rateLimited: 4008,
  /** 4400: protocol violation by the client. */
  badRequest: 4400,
} as const;

const NO_RECONNECT: ReadonlySet<number> = new Set([
  CLOSE_CODES.normal,
  CLOSE_CODES.unauthorized,
  CLOSE_CODES.rateLimited,
  CLOSE_CODES.badRequest,
]);

/** Whether the SDK reconnects after the server closed with `code` (1000 and 4001/4008/4400: no). */
export function shouldReconnect(code: number): boolean {
  return !NO_RECONNECT.has(code);
}
