/**
 * The WebSocket wire contract in one place (DESIGN.md, "WebSocket"): frame types, error codes,
 * close codes, the resume rule and the event frame template. The SDK and the edge import it; the
 * README's tables and the frame the Redis scripts build are checked against it by tests. It has no
 * dependencies, so the browser bundle carries it as it is.
 */

/** Frame types a client sends. */
export const CLIENT_FRAME_TYPES = ["subscribe", "unsubscribe", "process_order", "refresh"] as const;

/** Frame types the edge sends. */
export const SERVER_FRAME_TYPES = [
  "subscribed",
  "unsubscribed",
  "order.created",
  "order.status",
  "process_order.result",
  "refreshed",
  "error",
] as const;

/**
 * Codes of `error` frames: the socket stays open. Each with what it means, as the README lists
 * them (in this order).
 */
export const ERROR_CODES = {
  bad_request: "malformed JSON, a field of the wrong type, or a frame the protocol does not allow",
  unknown_type: "a frame `type` the edge does not know",
  bad_channel: "a channel name that is not `orders.created`, `orders.status` or `orders.user.<id>`",
  forbidden: "the token does not allow the channel (or the order, for `process_order`)",
  too_many_channels: "more than `MAX_CHANNELS_PER_CONN` channels on one socket",
  invalid_token: "a `refresh` token that does not verify, or names another `sub` than the socket's; the socket keeps its old token",
  rate_limited: "frames over `RATE_LIMIT_PER_S` / `RATE_LIMIT_BURST`; keep going and the socket is closed (4008)",
  unavailable: "Redis or order-api cannot be reached now; retry",
  internal: "an unexpected server error",
} as const;

/** A snake_case error code of an `error` frame. */
export type ErrorCode = keyof typeof ERROR_CODES;

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

/** Every close code the edge uses, grouped like centrifuge-js `codes.ts`; the README table lists them in this order. */
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
    when: "no close frame: network loss; also a frame over `MAX_PAYLOAD_BYTES` (uWS drops the socket)",
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
    when: "token invalid / expired (HTTP 401 at upgrade before the socket exists)",
    clientShould: "get a new token first",
  },
  rateLimited: {
    code: 4008,
    reason: "rate limited",
    group: "noReconnect",
    when: "kept sending after `rate_limited` errors (about 3x `RATE_LIMIT_BURST`)",
    clientShould: "fix the client",
  },
  badRequest: {
    code: 4400,
    reason: "bad request",
    group: "noReconnect",
    when: "protocol violation (binary frame)",
    clientShould: "fix the client",
  },
} as const satisfies Record<string, CloseCodeSpec>;

/** The close code of a normal closure (the client or the server ended the session on purpose). */
export const NORMAL_CLOSURE = 1000;

/** Whether a client should reconnect after a close with `code` (1000 and the don't-reconnect group: no). */
export function shouldReconnectAfter(code: number): boolean {
  if (code === NORMAL_CLOSURE) return false;
  for (const spec of Object.values(CLOSE_CODE_TABLE)) if (spec.code === code) return spec.group === "reconnect";
  return true; // unknown codes are treated as transient
}

/**
 * The offset the edge reports in `subscribed.offsets` for a channel that has no history yet. A
 * client resumes such a channel from its first event (`since` = this value), not from "live now".
 */
export const EMPTY_CHANNEL_OFFSET = ":0";

/**
 * The shape of an offset: `<epoch>:<seq>`, where seq grows by one per event a subscriber receives
 * and a new epoch means the server lost history. The all-orders channels, carried on several
 * partitions, add `~<seq>.<seq>…` (every partition's position) to resume from; a client keeps the
 * whole string and needs only the `<epoch>:<seq>` head.
 */
export const OFFSET_PATTERN = /^([A-Za-z0-9]{1,32}):(\d{1,15})(?:~\d{1,15}(?:\.\d{1,15}){0,255})?$/;

/**
 * An event frame as the edge sends it, byte for byte: the Redis scripts build this text once per
 * event (with the data JSON appended unchanged) and the edge forwards it as it is.
 */
export function eventFrameText(type: "order.created" | "order.status", channel: string, offset: string, dataJson: string): string {
  return `{"type":"${type}","channel":"${channel}","offset":"${offset}","data":${dataJson}}`;
}
