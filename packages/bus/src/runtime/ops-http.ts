import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The JSON body of `/healthz` and `/readyz` in every orderstream service: `status` is `"ok"`
 * (liveness), `"ready"` or `"not ready"` (readiness, 200 or 503), and `/readyz` names each check.
 */
export interface HealthBody {
  status: "ok" | "ready" | "not ready";
  checks?: Record<string, boolean>;
}

/** What `/readyz` evaluates: every check must be true for a 200. */
export type ReadinessChecks = () => Record<string, boolean>;

/** The `/healthz` body: the process answers. */
export const LIVENESS_BODY: string = JSON.stringify({ status: "ok" } satisfies HealthBody);

/** The `/readyz` answer for `checks`: HTTP 200 and "ready" when all are true, else 503 and "not ready". */
export function readinessReport(checks: Record<string, boolean>): { httpStatus: 200 | 503; body: string } {
  const ready = Object.values(checks).every(Boolean);
  const body: HealthBody = { status: ready ? "ready" : "not ready", checks };
  return { httpStatus: ready ? 200 : 503, body: JSON.stringify(body) };
}

/** Where `/metrics` comes from (a prom-client registry fits: `metrics()` and `contentType`). */
export interface MetricsSource {
  metrics(): Promise<string>;
  contentType: string;
}

/** Options of {@link startOpsHttpServer}. */
export interface OpsHttpOptions {
  /** Port to listen on; 0 = any free port. */
  port: number;
  /** Host to bind (default every interface). */
  host?: string;
  /** The variable that set `port`, named in the listen error. */
  portVariable: string;
  readiness: ReadinessChecks;
  metrics: MetricsSource;
  /** Reports a failed metrics collection or a server error (the caller logs it). */
  onError: (err: unknown, what: string) => void;
}

/** A running operations HTTP server. */
export interface OpsHttpServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves a service's operational endpoints on a port of their own: `/healthz` (liveness),
 * `/readyz` (readiness with its checks) and `/metrics` (Prometheus text). Never routed by the
 * production Ingress; kubelet probes and Prometheus reach it inside the cluster.
 */
export async function startOpsHttpServer(opts: OpsHttpOptions): Promise<OpsHttpServer> {
  const json = { "content-type": "application/json", "cache-control": "no-store" };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/healthz") {
      res.writeHead(200, json).end(LIVENESS_BODY);
    } else if (path === "/readyz") {
      const r = readinessReport(opts.readiness());
      res.writeHead(r.httpStatus, json).end(r.body);
    } else if (path === "/metrics") {
      opts.metrics.metrics().then(
        (text) => res.writeHead(200, { "content-type": opts.metrics.contentType }).end(text),
        (err: unknown) => {
          opts.onError(err, "metrics collection failed");
          res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n");
        },
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  server.on("error", (err) => opts.onError(err, "ops http server error"));
  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: Error): void => reject(new Error(`cannot listen on ${opts.portVariable} ${opts.port}: ${err.message}`));
    server.once("error", onListenError);
    const listening = (): void => {
      server.off("error", onListenError);
      resolve();
    };
    if (opts.host) server.listen(opts.port, opts.host, listening);
    else server.listen(opts.port, listening);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
