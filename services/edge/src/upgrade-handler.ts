import { SUBPROTOCOL } from "@orderstream/wire";
import type { HttpRequest, HttpResponse, us_socket_context_t } from "uWebSockets.js";
import { ANONYMOUS, AuthError, type Principal, type TokenVerifier, tokenFromRequest } from "./auth.js";
import { normalizeOrigin } from "./config.js";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";
import { AUTH, type AuthStage, type SocketState } from "./socket-state.js";

/** What the upgrade step needs from the node. */
export interface UpgradeDeps {
  verifier: TokenVerifier;
  metrics: EdgeMetrics;
  log: Logger;
  /** Why the node refuses new sockets now (draining, full), or undefined to accept. */
  refuse: () => "draining" | "full" | undefined;
  /** Upgrades being authenticated (they count towards MAX_CONNECTIONS). */
  pending: { n: number };
  /** EDGE_ALLOWED_ORIGINS (normalized); undefined = any. */
  allowedOrigins: ReadonlySet<string> | undefined;
  /** ANONYMOUS_ALL_ORDERS: a socket without a token may go on without `connect`. */
  anonymousAllOrders: boolean;
  newState: (who: Principal, auth: AuthStage) => SocketState;
}

/** uWS's upgrade handler signature. */
export type UpgradeHandler = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void;

function refuseWith(res: HttpResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("content-type", "text/plain").end(body, true);
  });
}

/**
 * The subprotocol to answer: `orderstream.v1` when the client offers it (among others), else none
 * (a browser accepts a reply without one; echoing an unknown offer would be wrong).
 */
export function chooseSubprotocol(offered: string): string {
  return offered.split(",").some((p) => p.trim() === SUBPROTOCOL) ? SUBPROTOCOL : "";
}

/** Whether an upgrade's `Origin` may connect: no list, no Origin (not a browser), or a listed one (case-insensitive). */
export function originAllowed(origin: string, allowed: ReadonlySet<string> | undefined): boolean {
  return allowed === undefined || origin === "" || allowed.has(normalizeOrigin(origin));
}

/**
 * The WebSocket upgrade, built once per node: refuses with 503 when draining or full, with 403 an
 * `Origin` not in EDGE_ALLOWED_ORIGINS, verifies a token given the old way (query `token` or
 * `Authorization: Bearer`) and refuses a bad one with 401. Without a token the socket must send
 * `connect` first, unless anonymous access is on. Sockets without a token and tokens the verifier
 * settles at once are upgraded in the handler; the rest wait for jose, as every refused token does.
 */
export function upgradeHandler(deps: UpgradeDeps): UpgradeHandler {
  return (res, req, context) => {
    const why = deps.refuse();
    if (why) {
      deps.metrics.errors.inc({ code: why === "full" ? "too_many_connections" : "draining" });
      refuseWith(res, "503 Service Unavailable", why === "full" ? "node full" : "node draining");
      return;
    }
    if (!originAllowed(req.getHeader("origin"), deps.allowedOrigins)) {
      deps.metrics.errors.inc({ code: "origin_refused" });
      refuseWith(res, "403 Forbidden", "origin not allowed");
      return;
    }
    const token = tokenFromRequest(req.getQuery("token") ?? undefined, req.getHeader("authorization"));
    const key = req.getHeader("sec-websocket-key");
    const protocol = chooseSubprotocol(req.getHeader("sec-websocket-protocol"));
    const extensions = req.getHeader("sec-websocket-extensions");
    if (token === undefined) {
      res.upgrade(deps.newState(ANONYMOUS, deps.anonymousAllOrders ? AUTH.anonymous : AUTH.awaiting), key, protocol, extensions, context);
      return;
    }
    const who = deps.verifier.verifyNow(token);
    if (who !== undefined) {
      res.upgrade(deps.newState(who, AUTH.connected), key, protocol, extensions, context);
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
  token: string,
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
      res.cork(() => res.upgrade(deps.newState(who, AUTH.connected), key, protocol, extensions, context));
    },
    (err: unknown) => {
      deps.pending.n--;
      deps.metrics.errors.inc({ code: "unauthorized" });
      if (!(err instanceof AuthError)) deps.log.error({ err }, "token verification crashed");
      if (!aborted) refuseWith(res, "401 Unauthorized", "invalid token");
    },
  );
}
