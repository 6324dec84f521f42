/** The one process skeleton of the three services: config, logger, start, ready, signals, shutdown deadline. */
import { type Logger, pino } from "pino";
import type { EnvSchema } from "./env-reference.js";
import { UsageError, parseServiceCommand, runServiceCommand } from "./service-cli.js";
import { ConfigError, loadConfigOrExit } from "./service-env.js";

/** What every service's configuration carries for the skeleton. */
export interface ServiceConfigBase {
  logLevel: string;
  shutdownTimeoutMs: number;
}

/** How one service starts, says it is ready, and stops; {@link runService} does the rest. */
export interface ServiceSpec<C extends ServiceConfigBase, S> {
  /** The `service` field of every log line, and the name in start-up failures. */
  name: string;
  loadConfig: () => C;
  /** The variables `loadConfig` reads, described (`--help`, `--check-config`, docs/configuration.md). */
  envSchema: EnvSchema;
  /** More fields for every log line (the edge's node id). */
  logFields?: (config: C) => Record<string, unknown>;
  start: (config: C, log: Logger) => Promise<S>;
  /**
   * The ready line (logged after the signal handlers are in place: a supervisor may send SIGTERM
   * the moment it reads it); may also do what readiness means besides (a worker tells its supervisor).
   */
  ready: (service: S, config: C) => { msg: string; fields: Record<string, unknown> };
  /** Ordered, idempotent stop; resolves with the exit code (0 unless it resolves with a number). */
  stop: (service: S, reason: string, config: C) => Promise<unknown>;
  /** Further reasons to shut down, beyond SIGTERM / SIGINT (a worker whose supervisor is gone). */
  onStarted?: (service: S, shutdown: (reason: string) => void) => void;
}

/** A service's structured JSON logger: pino to stdout, synchronous so the lines around exit are kept. */
export function serviceLogger(name: string, level: string, fields: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: name, pid: process.pid, ...fields } }, pino.destination({ dest: 1, sync: true }));
}

/**
 * Runs a service process: `--help`, `--version` and `--check-config` answer and exit (0, or 2 for
 * an invalid configuration or unknown arguments); without arguments, a bad configuration exits 2
 * with its message; start-up failure exits 1; SIGTERM / SIGINT (and an uncaught error, with exit
 * code 1) run the service's stop once, raced against SHUTDOWN_TIMEOUT_MS, after which the process
 * exits 1 whatever is left.
 */
export function runService<C extends ServiceConfigBase, S>(spec: ServiceSpec<C, S>): void {
  let command: ReturnType<typeof parseServiceCommand>;
  try {
    command = parseServiceCommand(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${spec.name}: ${err.message}\n`);
    process.exit(2);
  }
  if (command !== "run") {
    const result = runServiceCommand(command, spec.name, spec.envSchema, () => spec.loadConfig(), process.env);
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
    return;
  }
  const config = loadConfigOrExit(() => spec.loadConfig());
  const log = serviceLogger(spec.name, config.logLevel, spec.logFields?.(config));
  let service: S | undefined;
  let stopping = false;
  const shutdown = (reason: string, failed = false): void => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "shutting down");
    const deadline = setTimeout(() => {
      log.error({ shutdownTimeoutMs: config.shutdownTimeoutMs }, "shutdown deadline passed; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    const stopped = service === undefined ? Promise.resolve(undefined) : spec.stop(service, reason, config);
    stopped.then(
      (result) => {
        const code = failed ? 1 : typeof result === "number" ? result : 0;
        log.info({ code }, "exit");
        process.exit(code);
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "uncaught exception");
    shutdown("uncaughtException", true);
  });
  process.on("unhandledRejection", (err) => {
    log.fatal({ err }, "unhandled rejection");
    shutdown("unhandledRejection", true);
  });
  spec.start(config, log).then(
    (started) => {
      service = started;
      // A signal during start-up: stop what just started.
      if (stopping) {
        void spec.stop(started, "signal during start-up", config).finally(() => process.exit(0));
        return;
      }
      spec.onStarted?.(started, (reason) => shutdown(reason));
      const { msg, fields } = spec.ready(started, config);
      log.info(fields, msg);
    },
    (err: unknown) => {
      log.fatal({ err }, "start-up failed");
      // A configuration found wrong only at start (a workflow module that does not load): exit 2, like a bad variable.
      if (err instanceof ConfigError) {
        process.stderr.write(`${spec.name} failed to start: ${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`${spec.name} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
