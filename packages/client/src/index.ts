export * from "./order-stream-client.js";
export * from "./subscription.js";
export * from "./client-events.js";
export * from "./client-options.js";
export * from "./client-errors.js";
export * from "./protocol.js";
export * from "./backoff.js";
export * from "./offset-tracker.js";
export {
  CLOSE_CODES,
  CLOSE_CODE_TABLE,
  type CloseCodeSpec,
  type CloseGroup,
  EMPTY_OFFSET,
  ERROR_CODES,
  type ErrorCode,
  OFFSET_PATTERN,
  type RequestId,
  SUBPROTOCOL,
  type StreamPosition,
  offsetHead,
  shouldReconnectAfter as shouldReconnect,
} from "@orderstream/wire";
