import { waitUntil } from "@orderstream/testkit";
import { ClientFleet } from "../fault/client-fleet.js";
import { sleep } from "../fault/fault-scale.js";
import { waitSocketsLive } from "../fault/failover-flow.js";
import { createOrder, orderClient, orderRequest } from "../fault/grpc-orders.js";
import { type Checkpoint, type ClusterLoad, sockets } from "./cluster-load.js";
import { type ComposeProject, type ContainerState, docker, edgeConnections, fetchInside } from "./compose-project.js";

// The faults between containers that the compose test makes, each measured from outside: what
// happened, how long until the cluster served again, and the delivery check of the orders made
// meanwhile. The test file asserts on what these return.

/** The edge container holding the most sockets (the one a fault hurts most). */
export async function busiestEdge(project: ComposeProject): Promise<{ edge: ContainerState; connections: number }> {
  let best: { edge: ContainerState; connections: number } | undefined;
  for (const edge of await project.containers("edge")) {
    if (edge.status !== "running") continue;
    const connections = await edgeConnections(edge.id);
    if (!best || connections > best.connections) best = { edge, connections };
  }
  if (!best) throw new Error("no running edge");
  return best;
}

/** SIGKILL of the busiest edge; its clients reconnect through the balancer. Then it is started again. */
export async function killEdge(project: ComposeProject, load: ClusterLoad) {
  const { edge, connections } = await busiestEdge(project);
  const t = Date.now();
  await docker(["kill", edge.id]);
  const reopened = await load.reopenedAfter(t, connections, 60_000);
  await waitSocketsLive(load.fleet, load.callers, t, "every socket gets new orders after the edge kill");
  const recoveryMs = Date.now() - t;
  const check = await load.checkpoint();
  const restart = Date.now();
  await docker(["start", edge.id]);
  await waitUntil(
    async () => (await project.containers("edge")).find((c) => c.id === edge.id)?.health === "healthy",
    "the killed edge healthy again",
    60_000,
    500,
  );
  return {
    edge: edge.name,
    socketsOnIt: connections,
    clientsMoved: load.closedAfter(t).length,
    reconnectedMs: reopened - t,
    recoveryMs,
    restartedHealthyMs: Date.now() - restart,
    check,
  };
}

/** Every processor stopped for `stoppedMs` under load, then started again. */
export async function stopProcessors(project: ComposeProject, load: ClusterLoad, stoppedMs: number) {
  const processors = await project.containers("processor");
  const t = Date.now();
  await docker(["stop", "-t", "20", ...processors.map((p) => p.id)]);
  const stopMs = Date.now() - t;
  await sleep(stoppedMs);
  const waiting = load.callers.accepted.filter((o) => o.at > t + stopMs);
  const ids = new Set(waiting.map((o) => o.id));
  // While no processor runs, no order made meanwhile may move past PENDING.
  const advancedWhileStopped = load.fleet.clients
    .flatMap((c) => [...c.events.values()].flat())
    .filter((e) => ids.has(e.orderId) && e.type === "order.status").length;
  const start = Date.now();
  await docker(["start", ...processors.map((p) => p.id)]);
  const delivered = (): boolean => {
    const seen = new Set(
      load.fleet.clients
        .flatMap((c) => [...c.events.values()].flat())
        .filter((e) => e.status === "DELIVERED")
        .map((e) => e.orderId),
    );
    return waiting.every((o) => seen.has(o.id));
  };
  await waitUntil(delivered, "every order made while the processors were stopped DELIVERED", 90_000, 250).catch(() => undefined);
  const goneOnMs = Date.now() - start;
  return {
    processors: processors.length,
    stopMs,
    ordersWaiting: waiting.length,
    advancedWhileStopped,
    recoveryMs: goneOnMs,
    check: await load.checkpoint(),
  };
}

/** How an edge cut off the project's network (and joined again) was seen. */
export interface NetworkCut {
  edge: string;
  socketsOnIt: number;
  readinessDroppedMs: number;
  clientsMoved: number;
  clientsMovedMs: number;
  newSocketsDuringCut: number;
  rejoinedReadyMs: number;
  servesAgainMs: number;
  check: Checkpoint;
}

/** `docker network disconnect` of the busiest edge, then `connect` with compose's aliases. */
export async function cutEdgeOff(project: ComposeProject, load: ClusterLoad, wsUrl: string, cutMs: number): Promise<NetworkCut> {
  const { edge, connections } = await busiestEdge(project);
  const aliases = JSON.parse(
    await docker(["inspect", "-f", `{{json (index .NetworkSettings.Networks "${project.network}").Aliases}}`, edge.id]),
  ) as string[];
  const readyz = (): Promise<number> => fetchInside(edge.id, "http://127.0.0.1:9001/readyz", 3_000).then((r) => r.status);
  const t = Date.now();
  await docker(["network", "disconnect", project.network, edge.id]);
  const [readinessDroppedMs, movedAt] = await Promise.all([
    // The edge notices when its Redis connections fail, not at once: 12 to 40 s in runs here.
    waitUntil(async () => (await readyz()) === 503, "the cut-off edge's /readyz 503", 120_000, 250).then(() => Date.now() - t),
    load.reopenedAfter(t, connections, 60_000),
  ]);
  // New sockets meanwhile all land on the other edges (each subscribes).
  const probe = new ClientFleet();
  await probe.connect(sockets(wsUrl, 6, ["cut-probe"]), 6, 20_000);
  probe.close();
  await sleep(Math.max(0, cutMs - (Date.now() - t)));
  const join = Date.now();
  await docker(["network", "connect", ...aliases.flatMap((a) => ["--alias", a]), project.network, edge.id]);
  await waitUntil(async () => (await readyz()) === 200, "the rejoined edge's /readyz 200", 60_000, 250);
  const rejoinedReadyMs = Date.now() - join;
  // The balancer routes to it again: new sockets until one lands there (it holds none, leastconn).
  const later = new ClientFleet();
  await waitUntil(
    async () => {
      await later.connect(sockets(wsUrl, 2, ["rejoin-probe"]), 2, 20_000);
      return (await edgeConnections(edge.id)) > 0;
    },
    "a new socket through the balancer on the rejoined edge",
    60_000,
    1_000,
  ).finally(() => later.close());
  return {
    edge: edge.name,
    socketsOnIt: connections,
    readinessDroppedMs,
    clientsMoved: load.closedAfter(t).length,
    clientsMovedMs: movedAt - t,
    newSocketsDuringCut: probe.clients.length,
    rejoinedReadyMs,
    servesAgainMs: Date.now() - join,
    check: await load.checkpoint(),
  };
}

/** A CreateOrder call's outcome: gRPC code (0 = ok) and how long it took. */
interface Probe {
  code: number;
  ms: number;
}

/** The Redis container paused for `pauseMs` (longer than the 800 ms command timeout) under load. */
export async function pauseRedis(project: ComposeProject, load: ClusterLoad, grpcPort: number, pauseMs: number) {
  const [redis] = await project.containers("redis");
  if (!redis) throw new Error("no redis container");
  const grpc = orderClient(grpcPort);
  const probes: Probe[] = [];
  const t = Date.now();
  await docker(["pause", redis.id]);
  try {
    for (let i = 0; i < 20 && Date.now() - t < pauseMs - 1_000; i++) {
      const s = Date.now();
      const code = await createOrder(grpc, orderRequest("pause-probe", i), 10_000).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
      probes.push({ code, ms: Date.now() - s });
      await sleep(300);
    }
    await sleep(Math.max(0, pauseMs - (Date.now() - t)));
  } finally {
    await docker(["unpause", redis.id]);
    grpc.close();
  }
  const resumed = Date.now();
  const firstOk = await load.callers.firstAcceptedAfter(resumed, "an order acknowledged after the unpause", 30_000);
  const codes: Record<string, number> = {};
  for (const f of load.callers.failures.filter((x) => x.at >= t && x.at <= resumed + 1_000))
    codes[String(f.code)] = (codes[String(f.code)] ?? 0) + 1;
  return {
    pausedMs: resumed - t,
    probes: probes.length,
    probeCodes: [...new Set(probes.map((p) => p.code))],
    slowestProbeMs: Math.max(0, ...probes.map((p) => p.ms)),
    callerFailuresByCode: codes,
    recoveryMs: firstOk - resumed,
    check: await load.checkpoint(),
  };
}
