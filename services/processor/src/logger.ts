import { serviceLogger } from "@orderstream/bus";
import type { Logger } from "pino";

/** The processor's logger (the services' one logger). */
export function createLogger(level: string): Logger {
  return serviceLogger("processor", level);
}
