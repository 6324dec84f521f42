import { type Logger, pino } from "pino";

/** order-api's logger: pino JSON lines on stdout. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "order-api", pid: process.pid } });
}

export type { Logger };
