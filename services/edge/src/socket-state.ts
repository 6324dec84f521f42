import type { WebSocket } from "uWebSockets.js";
import type { Principal } from "./auth.js";
import { TokenBucket } from "./rate-limiter.js";

/** Per-socket state kept in uWS user data. uWS throws on a closed socket: check `closed` after every await. */
export interface SocketState {
  id: number;
  who: Principal;
  closed: boolean;
  /** Channel -> joined (true) or still being subscribed (false); each holds one feed reference once joined. */
  subs: Map<string, boolean>;
  bucket: TokenBucket;
}

/** A uWS socket of the edge. */
export type EdgeSocket = WebSocket<SocketState>;

let nextId = 1;

/** Fresh state for a socket authenticated as `who`. */
export function newSocketState(who: Principal, ratePerS: number, burst: number): SocketState {
  return { id: nextId++, who, closed: false, subs: new Map(), bucket: new TokenBucket(ratePerS, burst) };
}
