import type { OrderServiceClient } from "@orderstream/proto";
import { type LocalCluster, type ServiceProcess, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import type { SeenEvent } from "./client-fleet.js";
import { createOrder, orderClient, orderRequest } from "./grpc-orders.js";
import { caughtUp, checkSequences, comparable, readHistory } from "./history-truth.js";
import { checkLifecycles, undelivered } from "./order-lifecycle-check.js";
import { ChurningFleet } from "./soak-churn.js";
import { type GrowthLimits, type LoopSample, type ProcessSample, type SlotSummary, SoakSampler } from "./soak-sampler.js";

/** What a soak runs: how long, how hard, and when it drains an edge and restarts a processor. */
export interface SoakOptions {
  durationS: number;
  /** gRPC CreateOrder calls per second (the processors then advance each order through 4 steps). */
  ordersPerS: number;
  users: number;
  /** Subscriber chains: per-user sockets (one per user) plus `adminChains` on the all-orders channels. */
  adminChains: number;
  userChains: number;
  churnPerS: number;
  /** Edge node SIGTERM drains (alternating nodes, restarted on the same port) at offset + k × every. */
  edgeDrainEveryS: number;
  edgeDrainOffsetS: number;
  processorRestartEveryS: number;
  processorRestartOffsetS: number;
  sampleEveryS: number;
  growth: GrowthLimits;
  log?: (line: string) => void;
}

/** What a soak measured. */
export interface SoakResult {
  options: Omit<SoakOptions, "log">;
  ordersAccepted: number;
  orderFailures: number;
  lifecycleBad: number;
  chains: number;
  links: number;
  retirements: number;
  reconnects: number;
  edgeDrains: { at: number; port: number; exitCode: number | null; stopMs: number }[];
  processorRestarts: { at: number; exitCode: number | null; stopMs: number }[];
  eventsExpected: number;
  eventsDelivered: number;
  eventsLost: number;
  eventsDuplicated: number;
  mismatched: number;
  recoveryFailed: number;
  examples: string[];
  processes: SlotSummary[];
  loop: { p99MaxMs: number; maxMs: number };
  samples: Record<string, ProcessSample[]>;
  loopSamples: LoopSample[];
}

/** Lost (in the history, never delivered) and duplicated (delivered more than once) events of one subscription. */
function lossAndDuplicates(channel: string, got: readonly SeenEvent[], want: readonly SeenEvent[]): { lost: number; dup: number } {
  // A user channel's event is its offset; an all-orders channel's is "<order id> <type>:<status>".
  const key = (e: SeenEvent): string => comparable(channel, [e])[0] ?? "";
  const seen = new Map<string, number>();
  for (const e of got) seen.set(key(e), (seen.get(key(e)) ?? 0) + 1);
  let dup = 0;
  for (const n of seen.values()) dup += n - 1;
  let lost = 0;
  for (const e of want) if (!seen.has(key(e))) lost++;
  return { lost, dup };
}

/** Drains one edge node with SIGTERM and starts it again on the same port. */
async function drainEdge(
  cluster: LocalCluster,
  slot: { port: number; proc: ServiceProcess },
): Promise<{ exitCode: number | null; stopMs: number }> {
  const t = Date.now();
  const exitCode = await slot.proc.stop("SIGTERM", 20_000);
  const stopMs = Date.now() - t;
  slot.proc = (await cluster.addEdge(slot.port)).proc;
  return { exitCode, stopMs };
}

/** Sends CreateOrder at a steady rate (open loop, at most 500 in flight); counts acknowledged and failed calls. */
function startOrders(
  grpc: OrderServiceClient,
  ratePerS: number,
  users: string[],
): { stop(): Promise<void>; accepted(): number; failed(): number } {
  const started = Date.now();
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * ratePerS) / 1000) - sent;
    for (let i = 0; i < due && inFlight.size < 500; i++, sent++) {
      const p: Promise<void> = createOrder(grpc, orderRequest(users[sent % users.length] as string, sent))
        .then(
          () => void accepted++,
          () => void failed++,
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 20);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
    accepted: () => accepted,
    failed: () => failed,
  };
}

/**
 * The soak: a whole local cluster (order-api, 2 processors, 2 edge nodes, its own redis-server)
 * under steady orders and socket churn, with edge drains and processor restarts on a schedule;
 * every process sampled, every subscriber's events compared with the history at the end.
 */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => undefined);
  // The writers keep every event (the ground truth); the edges keep their default history cache
  // (HISTORY_SIZE is a per-channel cache size there: 10 M would let the cache grow with the run).
  const keepAll = { HISTORY_SIZE: "10000000" };
  const cluster = await startLocalCluster({
    edges: 2,
    processors: 2,
    apiEnv: keepAll,
    processorEnv: keepAll,
    edgeEnv: { DRAIN_WINDOW_MS: "2000" },
  });
  const grpc = orderClient(cluster.apiPort);
  const redis = cluster.redis.client();
  const fleet = new ChurningFleet({ urls: cluster.edges.map((e) => e.url), churnPerS: o.churnPerS, maxGapMs: 2000 });
  try {
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1]);
    const edges = cluster.edges.map((e) => ({ port: e.port, proc: e.proc }));
    const processors = [...cluster.processors];
    const pids = (): Record<string, number> => ({
      redis: redisPid,
      "order-api": cluster.api?.pid ?? -1,
      ...Object.fromEntries(processors.map((p, i) => [`processor-${i}`, p.pid])),
      ...Object.fromEntries(edges.map((e, i) => [`edge-${i}`, e.proc.pid])),
    });

    const users = Array.from({ length: o.users }, (_, i) => `soak-u${i}`);
    const admin = signToken(cluster.jwtSecret, { sub: "soak-ops", admin: true });
    await fleet.connect([
      ...Array.from({ length: o.adminChains }, (_, i) => ({ token: admin, channels: [i % 2 === 0 ? "orders.created" : "orders.status"] })),
      ...Array.from({ length: o.userChains }, (_, i) => {
        const u = users[i % users.length] as string;
        return { token: signToken(cluster.jwtSecret, { sub: u }), channels: [`orders.user.${u}`] };
      }),
    ]);

    const started = Date.now();
    const sampler = new SoakSampler(started);
    sampler.sample(pids());
    const sampleTimer = setInterval(() => sampler.sample(pids()), o.sampleEveryS * 1000);
    const orders = startOrders(grpc, o.ordersPerS, users);
    fleet.startChurn();
    log(`soak: ${o.durationS} s, ${o.ordersPerS} orders/s, ${fleet.clients.length} subscribers, churn ${o.churnPerS}/s`);

    const edgeDrains: SoakResult["edgeDrains"] = [];
    const processorRestarts: SoakResult["processorRestarts"] = [];
    const elapsed = (): number => (Date.now() - started) / 1000;
    let nextDrain = o.edgeDrainOffsetS;
    let nextRestart = o.processorRestartOffsetS;
    for (let i = 0; elapsed() < o.durationS && i < 1_000_000; i++) {
      if (elapsed() >= nextDrain) {
        const slot = edges[edgeDrains.length % edges.length] as (typeof edges)[number];
        const at = Math.round(elapsed());
        const r = await drainEdge(cluster, slot);
        edgeDrains.push({ at, port: slot.port, ...r });
        log(`soak: ${at} s edge ${slot.port} drained (exit ${r.exitCode}, ${r.stopMs} ms) and restarted`);
        nextDrain += o.edgeDrainEveryS;
      }
      if (elapsed() >= nextRestart) {
        const k = processorRestarts.length % processors.length;
        const at = Math.round(elapsed());
        const t = Date.now();
        const exitCode = await (processors[k] as ServiceProcess).stop("SIGTERM", 20_000);
        const stopMs = Date.now() - t;
        processors[k] = await cluster.addProcessor();
        processorRestarts.push({ at, exitCode, stopMs });
        log(`soak: ${at} s processor-${k} stopped (exit ${exitCode}, ${stopMs} ms) and restarted`);
        nextRestart += o.processorRestartEveryS;
      }
      if (i % 40 === 0)
        log(`soak: ${Math.round(elapsed())} s, ${orders.accepted()} orders, ${fleet.liveSockets()} sockets, ${fleet.retirements} resumes`);
      await new Promise((r) => setTimeout(r, 250));
    }

    await fleet.stopChurn();
    await orders.stop();
    sampler.sample(pids());
    clearInterval(sampleTimer);
    sampler.stop();
    await waitUntil(async () => (await undelivered(redis)) === 0, "every order DELIVERED", 60_000, 250);
    const lifecycle = await checkLifecycles(redis);
    const truth = await readHistory(redis, [...new Set(fleet.clients.flatMap((c) => c.channels))]);
    await waitUntil(() => caughtUp(fleet, truth), "every subscriber caught up", 30_000, 100).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const check = checkSequences(fleet, truth);
    let lost = 0;
    let dup = 0;
    for (const c of fleet.clients)
      for (const ch of c.channels) {
        const r = lossAndDuplicates(ch, c.events.get(ch) ?? [], truth.get(ch) ?? []);
        lost += r.lost;
        dup += r.dup;
      }
    const processes = sampler.summary(o.growth);
    const { log: _log, ...options } = o;
    return {
      options,
      ordersAccepted: orders.accepted(),
      orderFailures: orders.failed(),
      lifecycleBad: lifecycle.bad,
      chains: fleet.clients.length,
      links: fleet.clients.reduce((n, c) => n + c.links, 0),
      retirements: fleet.retirements,
      reconnects: fleet.clients.reduce((n, c) => n + c.opens, 0) - fleet.clients.reduce((n, c) => n + c.links, 0),
      edgeDrains,
      processorRestarts,
      eventsExpected: check.eventsExpected,
      eventsDelivered: check.eventsDelivered,
      eventsLost: lost,
      eventsDuplicated: dup,
      mismatched: check.mismatched,
      recoveryFailed: fleet.clients.reduce((n, c) => n + c.recoveryFailed.length, 0),
      examples: [...check.examples, ...lifecycle.examples],
      processes,
      loop: { p99MaxMs: Math.max(...sampler.loop.map((l) => l.p99Ms)), maxMs: Math.max(...sampler.loop.map((l) => l.maxMs)) },
      samples: Object.fromEntries(sampler.slots),
      loopSamples: sampler.loop,
    };
  } finally {
    fleet.close();
    grpc.close();
    await cluster.stop();
  }
}
