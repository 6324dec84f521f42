import { CLOSE_CODE_TABLE, NORMAL_CLOSURE, shouldReconnectAfter } from "./wire-contract.js";

/**
 * The edge's WebSocket close codes by name, as the SDK reads them (from the wire contract,
 * wire-contract.ts). Anything not in the "don't reconnect" group is treated as transient.
 */
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
  badRequest: CLOSE_CODE_TABLE.badRequest.code,
} as const;

/** Whether the SDK reconnects after the server closed with `code` (1000 and 4001/4008/4400: no). */
export function shouldReconnect(code: number): boolean {
  return shouldReconnectAfter(code);
}
