import { type OpsHttpServer, type ReadinessChecks, startOpsHttpServer } from "@orderstream/bus";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

/** What /readyz reports: every check must be true for a 200. */
export type ReadinessProbe = ReadinessChecks;

/** The health/metrics HTTP server and the port it listens on. */
export type HealthServer = OpsHttpServer;

/**
 * Serves `/healthz` (liveness: the process answers), `/readyz` (readiness: worker running, Redis
 * ready, not shutting down) and `/metrics` (Prometheus text) on HEALTH_PORT `port` (0 = any free
 * port), in the JSON shape every service answers ({@link startOpsHttpServer}).
 */
export function startHealthServer(port: number, readiness: ReadinessProbe, registry: Registry, logger: Logger): Promise<HealthServer> {
  return startOpsHttpServer({
    port,
    portVariable: "HEALTH_PORT",
    readiness,
    metrics: registry,
    onError: (err, what) => logger.error({ err }, what),
  });
}
