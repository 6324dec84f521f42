import { serviceLogger } from "@orderstream/bus";
import type { Logger } from "pino";

/** order-api's logger (the services' one logger). */
export function createLogger(level: string): Logger {
  return serviceLogger("order-api", level);
}

export type { Logger };
