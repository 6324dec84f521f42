import type { ScenarioName, ScenarioOptions } from "./types.js";

/** True for scenarios that open WebSocket connections. */
export function scenarioUsesSockets(s: ScenarioName): boolean {
  return s === "ws-subscribe" || s === "e2e";
}

/** True when the run talks to order-api (gRPC scenarios, e2e, or background creates). */
export function scenarioUsesGrpc(o: Pick<ScenarioOptions, "scenario" | "rate">): boolean {
  return o.scenario !== "ws-subscribe" || o.rate > 0;
}

/** A human description of exactly what the run will send, printed before loading a remote host. */
export function describePlan(o: ScenarioOptions): string {
  const lines = [`orderstream-load plan: scenario ${o.scenario}, at most ${o.durationS} s`];
  if (scenarioUsesSockets(o.scenario)) {
    const userSockets = Math.floor(o.sockets * o.userRatio);
    lines.push(
      `  WebSocket: ${o.sockets} connections to ${o.urls.join(", ")} at ${o.rampPerS}/s, each sending one frame ` +
        `{"type":"subscribe","channels":[...]}: ${o.sockets - userSockets} × ${JSON.stringify(o.channels)}, ` +
        `${userSockets} × ["orders.user.lg-user-<n>"] (n < ${o.users})`,
    );
  }
  const creates = o.scenario === "grpc-create" || o.scenario === "e2e" || (o.scenario.endsWith("subscribe") && o.rate > 0);
  if (creates) {
    const pace = o.concurrency > 0 && o.scenario !== "ws-subscribe" ? `${o.concurrency} in flight` : `${o.rate}/s`;
    lines.push(`  gRPC ${o.grpc}: CreateOrder ${pace}${o.count > 0 ? `, at most ${o.count}` : ""} (users lg-user-<n>, 1-3 items)`);
  }
  if (o.scenario === "grpc-bulk")
    lines.push(`  gRPC ${o.grpc}: BulkCreateOrders streams of ${o.batch} orders, ${Math.max(1, o.concurrency)} in parallel`);
  if (o.scenario === "grpc-subscribe") lines.push(`  gRPC ${o.grpc}: ${o.streams} SubscribeOrders streams`);
  return lines.join("\n");
}
