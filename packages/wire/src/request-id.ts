/** Longest string `id` a client frame may carry. */
export const MAX_REQUEST_ID_LENGTH = 64;

/**
 * The `id` a client may put on any frame; every reply to that frame (`connected`, `subscribed`,
 * `unsubscribed`, `refreshed`, `process_order.result`, `error`) carries the same value.
 */
export type RequestId = number | string;

/** Whether `v` is a valid request id: a JSON number, or a string of at most {@link MAX_REQUEST_ID_LENGTH} characters. */
export function isRequestId(v: unknown): v is RequestId {
  return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v.length <= MAX_REQUEST_ID_LENGTH);
}

/** The message of the `bad_request` error a frame with an invalid `id` gets (the reply carries no id). */
export const BAD_REQUEST_ID_MESSAGE = `field id must be a number or a string of at most ${MAX_REQUEST_ID_LENGTH} characters`;
