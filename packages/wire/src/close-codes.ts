/** Whether a close code asks the client to reconnect. */
export type CloseGroup = "reconnect" | "noReconnect";

/** One close code: the number, its name (also the close reason), group, when, and what a client should do. */
export interface CloseCodeSpec {
  readonly code: number;
  readonly reason: string;
  readonly group: CloseGroup;
  readonly when: string;
  readonly clientShould: string;
}

/**
 * Every close code the edge uses, grouped like centrifuge-js `codes.ts`: `reconnect` = transient or
 * on the server side (reconnect with backoff, resume from offsets); `noReconnect` = reconnecting
 * unchanged fails again. docs/protocol.md, the README and CLOSE_CODES.md list them in this order.
 */
export const CLOSE_CODE_TABLE = {
  goingAway: {
    code: 1001,
    reason: "going away",
    group: "reconnect",
    when: "node draining (SIGTERM): sockets closed in batches over `DRAIN_WINDOW_MS`",
    clientShould: "reconnect (another node), resume from offsets",
  },
  abnormal: {
    code: 1006,
    reason: "abnormal closure",
    group: "reconnect",
    when: "no close frame: network loss, an upgrade refused with HTTP 401/403/503; also a frame over `MAX_PAYLOAD_BYTES` (uWS drops the socket)",
    clientShould: "reconnect with backoff (and do not resend the oversized frame)",
  },
  internalError: {
    code: 1011,
    reason: "internal error",
    group: "reconnect",
    when: "unexpected server error on this socket",
    clientShould: "reconnect with backoff",
  },
  slowConsumer: {
    code: 4004,
    reason: "slow consumer",
    group: "reconnect",
    when: "send buffer passed `MAX_BACKPRESSURE_BYTES`",
    clientShould: "reconnect, resume from offsets (read faster)",
  },
  tokenExpired: {
    code: 4005,
    reason: "token expired",
    group: "reconnect",
    when: "the socket's token reached its `exp` without a `refresh` frame",
    clientShould: "get a new token, reconnect with it, resume from offsets",
  },
  shuttingDown: {
    code: 4503,
    reason: "shutting down",
    group: "reconnect",
    when: "shutdown deadline hit before the drain finished",
    clientShould: "reconnect to another node",
  },
  unauthorized: {
    code: 4001,
    reason: "unauthorized",
    group: "noReconnect",
    when: "the `connect` token is bad, expired or of a wrong algorithm; the first frame is not `connect` (anonymous access off); no `connect` within `EDGE_CONNECT_TIMEOUT_MS`",
    clientShould: "get a new token (once), then reconnect; stop if that one is refused too",
  },
  rateLimited: {
    code: 4008,
    reason: "rate limited",
    group: "noReconnect",
    when: "kept sending after `rate_limited` errors (about 3x `RATE_LIMIT_BURST`)",
    clientShould: "fix the client",
  },
  disconnectedByAdmin: {
    code: 4009,
    reason: "disconnected by admin",
    group: "noReconnect",
    when: "an admin disconnected the socket's user (`admin.disconnect`, the admin page's Disconnect button): every socket of that user on every edge",
    clientShould: "stop; do not reconnect on your own (the user may start a new session, e.g. sign in again)",
  },
  badRequest: {
    code: 4400,
    reason: "bad request",
    group: "noReconnect",
    when: "protocol violation (binary frame)",
    clientShould: "fix the client",
  },
} as const satisfies Record<string, CloseCodeSpec>;

/** The name of a close code in {@link CLOSE_CODE_TABLE}. */
export type CloseCodeName = keyof typeof CLOSE_CODE_TABLE;

/** The close code of a normal closure (the client or the server ended the session on purpose). */
export const NORMAL_CLOSURE = 1000;

/** The close codes by name as plain numbers (with `normal` = 1000), for `switch`es in clients. */
export const CLOSE_CODES = {
  normal: NORMAL_CLOSURE,
  goingAway: CLOSE_CODE_TABLE.goingAway.code,
  abnormal: CLOSE_CODE_TABLE.abnormal.code,
  internalError: CLOSE_CODE_TABLE.internalError.code,
  slowConsumer: CLOSE_CODE_TABLE.slowConsumer.code,
  tokenExpired: CLOSE_CODE_TABLE.tokenExpired.code,
  shuttingDown: CLOSE_CODE_TABLE.shuttingDown.code,
  unauthorized: CLOSE_CODE_TABLE.unauthorized.code,
  rateLimited: CLOSE_CODE_TABLE.rateLimited.code,
  disconnectedByAdmin: CLOSE_CODE_TABLE.disconnectedByAdmin.code,
  badRequest: CLOSE_CODE_TABLE.badRequest.code,
} as const;

/** Whether a client should reconnect after a close with `code` (1000 and the don't-reconnect group: no; unknown codes: yes). */
export function shouldReconnectAfter(code: number): boolean {
  if (code === NORMAL_CLOSURE) return false;
  for (const spec of Object.values(CLOSE_CODE_TABLE) as CloseCodeSpec[]) if (spec.code === code) return spec.group === "reconnect";
  return true;
}
