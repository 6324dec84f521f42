import type { OrderEvent } from "./protocol.js";

/** Connection state as reported by the `state` event. */
export type ConnectionState = "connecting" | "open" | "closed";

/** The events of {@link OrderStreamClient} and their payloads. */
export interface ClientEvents {
  open: { url: string };
  /**
   * `willReconnect` false after `close()`, 1000, or a "don't reconnect" code (4001, 4008, 4400);
   * after 4005 "token expired" the SDK gets a new token and reconnects.
   */
  close: { code: number; reason: string; willReconnect: boolean; reconnectDelayMs?: number };
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
