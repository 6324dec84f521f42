import { runService } from "@orderstream/bus";
import { envSchema, loadConfig } from "./config.js";
import { startOrderApi } from "./server.js";

/** The order-api process: the service skeleton around the gRPC server. */
runService({
  name: "order-api",
  loadConfig: () => loadConfig(),
  envSchema,
  start: (config, log) => startOrderApi(config, log),
  ready: (api, config) => ({
    msg: "ready",
    fields: { port: api.port, host: config.grpcHost, auth: config.authKeys ? "jwt" : "off", tls: config.tls !== undefined },
  }),
  // Streams get the deadline less a margin to end; the skeleton's deadline is the hard stop.
  stop: (api, _reason, config) => api.stop(Math.max(0, config.shutdownTimeoutMs - 500)),
});
