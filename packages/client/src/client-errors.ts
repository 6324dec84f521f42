import type { ErrorCode } from "@orderstream/wire";

/** An `error` frame from the edge: `code` is one of the protocol's codes (`forbidden`, `unavailable`, …). */
export class ServerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The channels of the subscribe this error answers, if it answers one. */
    readonly channels?: string[],
  ) {
    super(message || code);
    this.name = "ServerError";
  }
}

/** The edge refused the token (close 4001) and a fresh one from `getToken()` was refused too, or there is none to ask for. */
export class UnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnauthorizedError";
  }
}

/** The connection could not be made or failed (socket error, token provider failure, connect timeout). */
export class ConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

/** A request got no answer in time. */
export class RequestTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestTimeoutError";
  }
}

/** A request was cut off because the connection closed (or was not open when it was made). */
export class DisconnectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DisconnectedError";
  }
}

/** A readable message for a thrown value or a socket error event (browsers give no details). */
export function describeError(v: unknown): string {
  if (v instanceof Error) return v.message;
  if (typeof v === "object" && v !== null) {
    const o = v as { message?: unknown; error?: unknown };
    if (typeof o.message === "string" && o.message) return o.message;
    if (o.error instanceof Error) return o.error.message;
  }
  return "connection failed";
}
