import { pino, type Logger } from "pino";

/** The edge's structured JSON logger (pino, to stdout), tagged with the node id. */
export function createLogger(level: string, nodeId: string): Logger {
  // Synchronous writes: the lines around shutdown must not be lost to process.exit().
  return pino({ level, base: { service: "edge", node: nodeId } }, pino.destination({ dest: 1, sync: true }));
}

export type { Logger };
