import type { HttpResponse, TemplatedApp } from "uWebSockets.js";
import { DASHBOARD_HTML } from "./dashboard-html.js";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";

/** What the HTTP endpoints report on. */
export interface HttpDeps {
  metrics: EdgeMetrics;
  log: Logger;
  /** True when Redis is connected and the node is not draining. */
  isReady: () => boolean;
  /** The `/metrics` text; default: this node's registry. */
  metricsText?: () => Promise<string>;
}

function reply(res: HttpResponse, status: string, type: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("content-type", type).writeHeader("cache-control", "no-store").end(body);
  });
}

/**
 * The operational endpoints on the WebSocket port: `/healthz` (liveness: 200 while the process
 * runs), `/readyz` (200 only when Redis is up and the node is not draining), `/metrics`
 * (Prometheus), and `/` (the live dashboard page).
 */
export function registerHttpRoutes(app: TemplatedApp, deps: HttpDeps): void {
  app.get("/healthz", (res) => reply(res, "200 OK", "application/json", '{"status":"ok"}'));
  app.get("/readyz", (res) => {
    if (deps.isReady()) reply(res, "200 OK", "application/json", '{"status":"ready"}');
    else reply(res, "503 Service Unavailable", "application/json", '{"status":"not ready"}');
  });
  app.get("/metrics", (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    (deps.metricsText ?? (() => deps.metrics.registry.metrics()))().then(
      (text) => {
        if (!aborted) reply(res, "200 OK", deps.metrics.registry.contentType, text);
      },
      (err: unknown) => {
        deps.log.error({ err }, "collecting metrics failed");
        if (!aborted) reply(res, "500 Internal Server Error", "text/plain", "metrics unavailable");
      },
    );
  });
  app.get("/", (res) => reply(res, "200 OK", "text/html; charset=utf-8", DASHBOARD_HTML));
  app.any("/*", (res) => reply(res, "404 Not Found", "text/plain", "not found"));
}
