import { fileURLToPath } from "node:url";
import { type ServiceProcess, startService } from "@orderstream/testkit";
import { edgeEnv } from "./edge-env.js";

/** The built edge entry point (tests run `npx tsc -b services/edge` first). */
export const EDGE_MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

/** An edge node running as a child process. */
export interface EdgeProcess {
  svc: ServiceProcess;
  port: number;
  url: string;
}

/** Starts `node dist/main.js` on an ephemeral port and waits for its `"msg":"ready"` line. */
export async function startEdgeProcess(redisUrl: string, extra: Record<string, string> = {}): Promise<EdgeProcess> {
  const svc = startService(EDGE_MAIN, edgeEnv(redisUrl, { LOG_LEVEL: "info", ...extra }), "edge");
  const line = await svc.waitFor(/\{[^\n]*"msg":"ready"[^\n]*\}/, 15_000);
  const port = Number((JSON.parse(line) as { port: number }).port);
  return { svc, port, url: `ws://127.0.0.1:${port}/ws` };
}
