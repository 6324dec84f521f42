import type { WebSocket } from "uWebSockets.js";
import type { Principal } from "./auth.js";
import type { RateLimit, RateState } from "./rate-limiter.js";

/**
 * Per-socket state kept in uWS user data. uWS copies these fields onto the socket object itself,
 * so every field costs a slot on every socket: keep them few, flat and small (no per-socket objects
 * beyond `subs`). uWS throws on a closed socket: check `closed` after every await.
 */
export interface SocketState extends RateState {
  id: number;
  /** Shared between sockets with the same token (and by every anonymous socket): never mutate. */
  who: Principal;
  closed: boolean;
  /** Channel -> joined (true) or still being subscribed (false); each holds one feed reference once joined. */
  subs: Map<string, boolean>;
}

/** A uWS socket of the edge. */
export type EdgeSocket = WebSocket<SocketState>;

let nextId = 1;

/** Fresh state for a socket authenticated as `who`, with a full rate-limit bucket. */
export function newSocketState(who: Principal, limit: RateLimit): SocketState {
  return { id: nextId++, who, closed: false, subs: new Map(), rateMilliTokens: limit.fullMilliTokens, rateAt: 0, rateOverflow: 0 };
}
