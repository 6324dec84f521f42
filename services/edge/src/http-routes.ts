import { LIVENESS_BODY, readinessReport } from "@orderstream/bus";
import type { HttpResponse, TemplatedApp } from "uWebSockets.js";
import { DASHBOARD_CSP, DASHBOARD_HTML } from "./dashboard-html.js";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";

/** What the HTTP endpoints report on. */
export interface HttpDeps {
  metrics: EdgeMetrics;
  log: Logger;
  /** The readiness checks (Redis connected, not draining): all true = ready. */
  readiness: () => Record<string, boolean>;
  /** The `/metrics` text; default: this node's registry. */
  metricsText?: () => Promise<string>;
}

function reply(res: HttpResponse, status: string, type: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("content-type", type).writeHeader("cache-control", "no-store").end(body);
  });
}

/** The admin page, with headers that keep it to itself: its CSP, no framing, no sniffing, no referrer. */
function replyPage(res: HttpResponse): void {
  res.cork(() => {
    res
      .writeStatus("200 OK")
      .writeHeader("content-type", "text/html; charset=utf-8")
      .writeHeader("cache-control", "no-store")
      .writeHeader("content-security-policy", DASHBOARD_CSP)
      .writeHeader("x-frame-options", "DENY")
      .writeHeader("x-content-type-options", "nosniff")
      .writeHeader("referrer-policy", "no-referrer")
      .end(DASHBOARD_HTML);
  });
}

/** Answers `res` with the promise's result, unless the client went away first. */
function replyLater(res: HttpResponse, work: Promise<[string, string, string]>, onError: (err: unknown) => [string, string, string]): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  work.then(
    (r) => {
      if (!aborted) reply(res, ...r);
    },
    (err: unknown) => {
      const r = onError(err);
      if (!aborted) reply(res, ...r);
    },
  );
}

/**
 * The operational endpoints on the WebSocket port: `/healthz` (liveness: 200 while the process
 * runs), `/readyz` (200 only when Redis is up and the node is not draining, with its checks),
 * `/metrics` (Prometheus), and `/` (the admin page: static, it holds no data; it signs in with an
 * admin token sent only in its socket's `connect` frame, and every admin frame is refused without
 * `"admin": true`). The production Ingress routes none of them (only `/ws` and `/orders`).
 */
export function registerHttpRoutes(app: TemplatedApp, deps: HttpDeps): void {
  app.get("/healthz", (res) => reply(res, "200 OK", "application/json", LIVENESS_BODY));
  app.get("/readyz", (res) => {
    const r = readinessReport(deps.readiness());
    reply(res, r.httpStatus === 200 ? "200 OK" : "503 Service Unavailable", "application/json", r.body);
  });
  app.get("/metrics", (res) => {
    replyLater(
      res,
      (deps.metricsText ?? (() => deps.metrics.registry.metrics()))().then((text) => ["200 OK", deps.metrics.registry.contentType, text]),
      (err) => {
        deps.log.error({ err }, "collecting metrics failed");
        return ["500 Internal Server Error", "text/plain", "metrics unavailable"];
      },
    );
  });
  app.get("/", (res) => replyPage(res));
  app.any("/*", (res) => reply(res, "404 Not Found", "text/plain", "not found"));
}
