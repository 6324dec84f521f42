import type { OrderEvent } from "./protocol.js";

/** Connection state as reported by the `state` event: `open` once the socket is ready (after `connected`, with a token). */
export type ConnectionState = "connecting" | "open" | "closed";

/** The events of {@link OrderStreamClient} and their payloads. */
export interface ClientEvents {
  open: { url: string };
  /** The edge accepted the `connect` token: the socket's user and the token's `exp` (epoch s; undefined: none). */
  connected: { user: string; exp: number | undefined };
  /**
   * `willReconnect` false after `close()`, 1000, a "don't reconnect" code (4008, 4009, 4400), or a 4001
   * the SDK gave up on (see `error`); after 4005 "token expired" the SDK gets a new token and reconnects.
   */
  close: { code: number; reason: string; willReconnect: boolean; reconnectDelayMs?: number };
  /** `ServerError` (with a typed `code`), `UnauthorizedError`, `ConnectionError`, `RequestTimeoutError`, or a handler's throw. */
  error: Error;
  state: ConnectionState;
  /** A `subscribed` reply arrived; `recovered` false means some history was lost. */
  subscribed: { channels: string[]; recovered: boolean };
  /** The edge accepted a `refresh`: the socket's token now expires at `exp` (epoch seconds; undefined: never). */
  refreshed: { exp: number | undefined };
  /** Missed events of these channels could not be replayed: refetch the state they describe. */
  recoveryFailed: { channels: string[] };
}

/** A handler of one channel's events. */
export type EventHandler = (event: OrderEvent) => void;
