import type { WebSocket } from "uWebSockets.js";
import type { Principal } from "./auth.js";
import type { RateLimit, RateState } from "./rate-limiter.js";

/**
 * Per-socket state kept in uWS user data. uWS copies these fields onto the socket object itself,
 * so every field costs a slot on every socket: keep them few, flat and small (no per-socket objects
 * beyond the two channel lists). uWS throws on a closed socket: check `closed` after every await.
 */
export interface SocketState extends RateState {
  id: number;
  /** Epoch ms of the upgrade (the admin page's "connected since"). */
  openedAt: number;
  /** Where the socket stands with authentication (protocol v1's `connect`). */
  auth: AuthStage;
  /** Frames that came while a `connect` was being verified, handled once it is; null otherwise (nearly always). */
  early: string[] | null;
  /** Shared between sockets with the same token (and by every anonymous socket): never mutate. */
  who: Principal;
  closed: boolean;
  /** Channels joined (each holds one feed reference). An array: a Map would cost ~150 B more per socket. */
  joined: string[];
  /** Channels whose subscribe is still in flight; null while there are none (nearly always). */
  joining: string[] | null;
}

/** A uWS socket of the edge. */
export type EdgeSocket = WebSocket<SocketState>;

/**
 * A socket's authentication stage: `awaiting` (no token yet, anonymous access off: the first frame
 * must be `connect`), `anonymous` (no token, anonymous access on: it may `connect` once),
 * `connecting` (a `connect` is being verified) and `connected` (a verified token, from `connect` or
 * the upgrade). Small integers: one slot per socket.
 */
export const AUTH = { awaiting: 0, anonymous: 1, connecting: 2, connected: 3 } as const;
/** One of {@link AUTH}'s stages. */
export type AuthStage = (typeof AUTH)[keyof typeof AUTH];

let nextId = 1;

/** Fresh state for a socket at auth stage `auth` as `who`, with a full rate-limit bucket. */
export function newSocketState(who: Principal, auth: AuthStage, limit: RateLimit): SocketState {
  return {
    id: nextId++,
    openedAt: Date.now(),
    auth,
    early: null,
    who,
    closed: false,
    joined: [],
    joining: null,
    rateMilliTokens: limit.fullMilliTokens,
    rateAt: 0,
    rateOverflow: 0,
  };
}

/** Where a socket stands with a channel: joined, still joining, or neither. */
export function channelState(st: SocketState, channel: string): "joined" | "joining" | undefined {
  if (st.joined.includes(channel)) return "joined";
  return st.joining?.includes(channel) ? "joining" : undefined;
}

/** Channels joined or joining (what counts against MAX_CHANNELS_PER_CONN). */
export function heldCount(st: SocketState): number {
  return st.joined.length + (st.joining?.length ?? 0);
}

/** Marks a channel as being subscribed. */
export function startJoining(st: SocketState, channel: string): void {
  (st.joining ??= []).push(channel);
}

/** Forgets a channel; says what it was (a subscribe in flight sees its entry gone and rolls back). */
export function forgetChannel(st: SocketState, channel: string): "joined" | "joining" | undefined {
  if (removeFrom(st.joined, channel)) return "joined";
  if (st.joining && removeFrom(st.joining, channel)) {
    if (st.joining.length === 0) st.joining = null;
    return "joining";
  }
  return undefined;
}

/** A channel's subscribe completed: it moves from joining to joined. */
export function finishJoining(st: SocketState, channel: string): void {
  forgetChannel(st, channel);
  st.joined.push(channel);
}

function removeFrom(list: string[], item: string): boolean {
  const i = list.indexOf(item);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}
