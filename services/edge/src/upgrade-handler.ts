import type { HttpRequest, HttpResponse, us_socket_context_t } from "uWebSockets.js";
import { AuthError, type Principal, type TokenVerifier, tokenFromRequest } from "./auth.js";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";
import type { SocketState } from "./socket-state.js";

/** What the upgrade step needs from the node. */
export interface UpgradeDeps {
  verifier: TokenVerifier;
  metrics: EdgeMetrics;
  log: Logger;
  /** Why the node refuses new sockets now (draining, full), or undefined to accept. */
  refuse: () => "draining" | "full" | undefined;
  /** Upgrades being authenticated (they count towards MAX_CONNECTIONS). */
  pending: { n: number };
  newState: (who: Principal) => SocketState;
}

function refuseWith(res: HttpResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("content-type", "text/plain").end(body, true);
  });
}

/**
 * The WebSocket upgrade: refuses with 503 when draining or full, verifies the token (query
 * `token` or `Authorization: Bearer`) and refuses a bad one with 401; no token = anonymous.
 */
export function handleUpgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t, deps: UpgradeDeps): void {
  const why = deps.refuse();
  if (why) {
    deps.metrics.errors.inc({ code: why === "full" ? "too_many_connections" : "draining" });
    refuseWith(res, "503 Service Unavailable", why === "full" ? "node full" : "node draining");
    return;
  }
  // The request object is only valid until the first await: copy what is needed now.
  const key = req.getHeader("sec-websocket-key");
  const protocol = req.getHeader("sec-websocket-protocol");
  const extensions = req.getHeader("sec-websocket-extensions");
  const token = tokenFromRequest(req.getQuery("token") ?? undefined, req.getHeader("authorization"));
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  deps.pending.n++;
  deps.verifier.verify(token).then(
    (who) => {
      deps.pending.n--;
      if (aborted) return;
      const late = deps.refuse();
      if (late === "draining") return refuseWith(res, "503 Service Unavailable", "node draining");
      res.cork(() => res.upgrade(deps.newState(who), key, protocol, extensions, context));
    },
    (err: unknown) => {
      deps.pending.n--;
      deps.metrics.errors.inc({ code: "unauthorized" });
      if (!(err instanceof AuthError)) deps.log.error({ err }, "token verification crashed");
      if (!aborted) refuseWith(res, "401 Unauthorized", "invalid token");
    },
  );
}
