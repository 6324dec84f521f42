/** An `error` frame from the edge (`code` is the protocol's snake_case code, e.g. `forbidden`). */
export class ServerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The channels of the subscribe this error was attributed to, if any. */
    readonly channels?: string[],
  ) {
    super(message || code);
    this.name = "ServerError";
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
