import { AuthError, type Principal, type TokenVerifier } from "./auth.js";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";
import { type RequestId, refreshedFrame } from "@orderstream/wire";
import type { Outbound } from "./outbound.js";
import type { EdgeSocket } from "./socket-state.js";
import { sendError } from "./subscriptions.js";
import type { TokenExpiries } from "./token-expiry.js";

/** What a `refresh` frame needs from the node. */
export interface RefreshDeps {
  verifier: TokenVerifier;
  metrics: EdgeMetrics;
  log: Logger;
  out: Outbound;
  /** Sockets by the second their token expires (closed with 4005 then). */
  expiries: TokenExpiries;
}

/**
 * A socket's `refresh`: the new token must verify and name the socket's own `sub`; it then
 * replaces the socket's principal (its `exp` moves; its subscriptions stay) and the client gets
 * `refreshed` with the new `exp`. Anything else is an `invalid_token` error and the socket keeps
 * its old token (and is closed with 4005 when that expires).
 */
export function refreshToken(ws: EdgeSocket, deps: RefreshDeps, token: string, id: RequestId | undefined): void {
  const st = ws.getUserData();
  if (st.who.userId === undefined) {
    sendError(ws, deps, "invalid_token", "refresh needs a socket with a user (send connect instead)", id);
    return;
  }
  const apply = (who: Principal): void => {
    if (st.closed) return;
    if (who.userId !== st.who.userId) {
      sendError(ws, deps, "invalid_token", "refresh token has another sub than the socket's token", id);
      return;
    }
    deps.expiries.setWho(ws, who);
    deps.out.send(ws, refreshedFrame(who.exp, id));
  };
  const now = deps.verifier.verifyNow(token);
  if (now !== undefined) return apply(now);
  deps.verifier.verify(token).then(apply, (err: unknown) => {
    if (!(err instanceof AuthError)) deps.log.error({ err, socket: st.id }, "refresh verification crashed");
    if (!st.closed) sendError(ws, deps, "invalid_token", `refresh token refused: ${err instanceof Error ? err.message : "invalid"}`, id);
  });
}
