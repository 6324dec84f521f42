import { CLOSE_CODE_TABLE, type RequestId, connectedFrame } from "@orderstream/wire";
import { AuthError, KeysUnavailableError, type Principal } from "./auth.js";
import type { EdgeSocket } from "./socket-state.js";
import { AUTH } from "./socket-state.js";
import { sendError } from "./subscriptions.js";
import type { RefreshDeps } from "./token-refresh.js";

/** Frames a socket may send while its `connect` is verified (handled once it is). */
const MAX_EARLY_FRAMES = 32;

/** What a `connect` frame needs from the node. */
export interface ConnectDeps extends RefreshDeps {
  deadlines: ConnectDeadlines;
}

/** Closes a socket with 4001 "unauthorized" and counts it. */
export function closeUnauthorized(ws: EdgeSocket, deps: Pick<RefreshDeps, "metrics">): void {
  deps.metrics.errors.inc({ code: "unauthorized" });
  const c = CLOSE_CODE_TABLE.unauthorized;
  if (!ws.getUserData().closed) ws.end(c.code, c.reason);
}

/**
 * A socket's `connect`: verifies the token (at once for ordinary HS256 tokens, else with jose),
 * makes its `sub` the socket's user, replies `connected` and then handles the frames that came
 * meanwhile (`replay`). A bad, expired or wrongly signed token closes the socket with 4001; keys
 * that cannot be fetched (JWKS down) close it with 1011 so the client retries later. A second
 * `connect` is a `bad_request` error (use `refresh` to replace the token).
 */
export function connect(ws: EdgeSocket, deps: ConnectDeps, token: string, id: RequestId | undefined, replay: (text: string) => void): void {
  const st = ws.getUserData();
  if (st.auth === AUTH.connected || st.auth === AUTH.connecting) {
    sendError(ws, deps, "bad_request", "already connected: connect comes once, first (send refresh to replace the token)", id);
    return;
  }
  const accept = (who: Principal): void => {
    if (st.closed) return;
    deps.expiries.setWho(ws, who);
    st.auth = AUTH.connected;
    deps.deadlines.delete(ws);
    deps.out.send(ws, connectedFrame(who.userId ?? "", who.exp, id));
    const early = st.early;
    st.early = null;
    for (const text of early ?? []) if (!st.closed) replay(text);
  };
  const now = deps.verifier.verifyNow(token);
  if (now !== undefined) return accept(now);
  st.auth = AUTH.connecting;
  deps.verifier.verify(token).then(accept, (err: unknown) => {
    if (st.closed) return;
    if (err instanceof KeysUnavailableError || !(err instanceof AuthError)) {
      deps.log.error({ err, socket: st.id }, "connect: token verification failed on our side");
      const c = CLOSE_CODE_TABLE.internalError;
      ws.end(c.code, c.reason);
      return;
    }
    deps.log.debug({ socket: st.id, reason: err.message }, "connect: token refused");
    closeUnauthorized(ws, deps);
  });
}

/** Keeps a frame that came while the socket's `connect` is verified; false when too many are waiting. */
export function keepEarly(ws: EdgeSocket, text: string): boolean {
  const st = ws.getUserData();
  if ((st.early?.length ?? 0) >= MAX_EARLY_FRAMES) return false;
  (st.early ??= []).push(text);
  return true;
}

/**
 * Sockets that must still send `connect` (anonymous access off), with their deadline
 * (EDGE_CONNECT_TIMEOUT_MS after the upgrade). The node's periodic sweep closes the late ones with
 * 4001: no timer per socket, and only sockets still waiting are visited.
 */
export class ConnectDeadlines {
  private readonly waiting = new Map<EdgeSocket, number>();

  constructor(private readonly timeoutMs: number) {}

  /** A socket opened without a token: it has until now + timeout. */
  add(ws: EdgeSocket, nowMs: number): void {
    this.waiting.set(ws, nowMs + this.timeoutMs);
  }

  /** The socket connected or closed. */
  delete(ws: EdgeSocket): void {
    this.waiting.delete(ws);
  }

  /** Closes (4001) every socket past its deadline that has not connected; returns how many. */
  sweep(nowMs: number, deps: Pick<RefreshDeps, "metrics">): number {
    let closed = 0;
    for (const [ws, deadline] of this.waiting) {
      if (deadline > nowMs) continue;
      this.waiting.delete(ws);
      const st = ws.getUserData();
      if (st.closed || st.auth === AUTH.connected) continue;
      closeUnauthorized(ws, deps);
      closed++;
    }
    return closed;
  }

  /** Sockets still waiting. */
  get size(): number {
    return this.waiting.size;
  }
}
