import { serviceLogger } from "@orderstream/bus";
import type { Logger } from "pino";

/** The edge's structured JSON logger (the services' one logger), tagged with the node id. */
export function createLogger(level: string, nodeId: string): Logger {
  return serviceLogger("edge", level, { node: nodeId });
}

export type { Logger };
