import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

/** What /readyz reports: every check must be true for a 200. */
export type ReadinessProbe = () => Record<string, boolean>;

/** The health/metrics HTTP server and the port it listens on. */
export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/healthz` (liveness: the process answers), `/readyz` (readiness: worker running, Redis
 * ready, not shutting down) and `/metrics` (Prometheus text) on `port` (0 = any free port).
 */
export async function startHealthServer(
  port: number,
  readiness: ReadinessProbe,
  registry: Registry,
  logger: Logger,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const checks = readiness();
      const ready = Object.values(checks).every(Boolean);
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ ready, checks }));
    } else if (path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: unknown) => {
          logger.error({ err }, "metrics collection failed");
          res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n");
        },
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  server.on("error", (err) => logger.error({ err }, "health server error"));
  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: Error): void => reject(new Error(`cannot listen on HEALTH_PORT ${port}: ${err.message}`));
    server.once("error", onListenError);
    server.listen(port, () => {
      server.off("error", onListenError);
      resolve();
    });
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
