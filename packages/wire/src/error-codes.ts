/**
 * Codes of `error` frames (`{"type":"error","error":{"code":…,"message":…}}`): the socket stays
 * open. Each with what it means; docs/protocol.md and the README list them in this order.
 */
export const ERROR_CODES = {
  bad_request:
    "malformed JSON, a field of the wrong type (an `id` that is not a number or a string of at most 64 characters), a second `connect`, or a frame the protocol does not allow",
  unknown_type: "a frame `type` the edge does not know",
  bad_channel: "a channel name that is not `orders.created`, `orders.status` or `orders.user.<id>`",
  forbidden: 'the token does not allow the channel (or the order, for `process_order`; or an `admin.*` frame, without `"admin": true`)',
  too_many_channels: "more than `MAX_CHANNELS_PER_CONN` channels on one socket",
  invalid_token:
    "a `refresh` token that does not verify or names another `sub` than the socket's (the socket keeps its old token), or a `refresh` on a socket without a user",
  rate_limited: "frames over `RATE_LIMIT_PER_S` / `RATE_LIMIT_BURST`; keep going and the socket is closed (4008)",
  unavailable: "Redis or order-api cannot be reached now; retry the same frame later",
  internal: "an unexpected server error",
} as const;

/** A snake_case code of an `error` frame. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Every error code, in the documented order. */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

/** Whether `code` is one of the protocol's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/**
 * Codes of a `process_order.result`'s `error_code` (absent = the action was applied). These are
 * outcomes of the action, not protocol errors: the socket and the client are fine.
 */
export const ACTION_ERROR_CODES = {
  not_found: "no order with that id",
  invalid_transition: "the order's status does not allow the action (e.g. cancel a DELIVERED order)",
  invalid_argument: "an action that is not one of confirm, process, ship, deliver, cancel, retry",
  unavailable: "the order store or order-api cannot be reached now; retry",
  internal: "an unexpected server error",
} as const;

/** A code of a `process_order.result`'s `error_code`. */
export type ActionErrorCode = keyof typeof ACTION_ERROR_CODES;

/**
 * What an SDK does with an `error` frame that answers a `subscribe`: `fatal` codes fail again as
 * sent (drop the channel and report it), `retry` codes are transient (send it again after a backoff).
 */
export function subscribeErrorKind(code: string): "fatal" | "retry" | undefined {
  if (code === "bad_channel" || code === "forbidden" || code === "too_many_channels" || code === "bad_request") return "fatal";
  if (code === "unavailable" || code === "internal") return "retry";
  return undefined;
}
