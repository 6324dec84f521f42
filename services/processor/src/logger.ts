import { type Logger, pino } from "pino";

/** The processor's logger: pino JSON lines on stdout. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "processor", pid: process.pid } });
}
