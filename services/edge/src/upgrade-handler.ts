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

/** uWS's upgrade handler signature. */
export type UpgradeHandler = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void;

function refuseWith(res: HttpResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("content-type", "text/plain").end(body, true);
  });
}

/**
 * The WebSocket upgrade, built once per node: refuses with 503 when draining or full, verifies the
 * token (query `token` or `Authorization: Bearer`) and refuses a bad one with 401; no token =
 * anonymous. Anonymous sockets and tokens the verifier settles at once (remembered, or plainly
 * valid) are upgraded in the handler; the rest wait for jose, as every refused token does.
 */
export function upgradeHandler(deps: UpgradeDeps): UpgradeHandler {
  return (res, req, context) => {
    const why = deps.refuse();
    if (why) {
      deps.metrics.errors.inc({ code: why === "full" ? "too_many_connections" : "draining" });
      refuseWith(res, "503 Service Unavailable", why === "full" ? "node full" : "node draining");
      return;
    }
    const token = tokenFromRequest(req.getQuery("token") ?? undefined, req.getHeader("authorization"));
    const key = req.getHeader("sec-websocket-key");
    const protocol = req.getHeader("sec-websocket-protocol");
    const extensions = req.getHeader("sec-websocket-extensions");
    const who = deps.verifier.verifyNow(token);
    if (who !== undefined) {
      res.upgrade(deps.newState(who), key, protocol, extensions, context);
      return;
    }
    verifyThenUpgrade(res, context, deps, token, key, protocol, extensions);
  };
}

/** The slow path: the request object is gone after the handler returns, so its headers come copied. */
function verifyThenUpgrade(
  res: HttpResponse,
  context: us_socket_context_t,
  deps: UpgradeDeps,
  token: string | undefined,
  key: string,
  protocol: string,
  extensions: string,
): void {
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
