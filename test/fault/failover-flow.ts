import { type LocalCluster, signToken, waitUntil } from "@orderstream/testkit";
import type { OrderServiceClient } from "@orderstream/proto";
import type { ClientFleet, FleetClientSpec } from "./client-fleet.js";
import { sleep } from "./fault-scale.js";
import { createOrder, orderRequest } from "./grpc-orders.js";

// The load the Redis fault tests (Sentinel failover, Cluster failover, AOF restart) put on a
// local cluster with two edges: the same sockets, the same stream of gRPC orders.

/** An order the API acknowledged, and when. */
export interface Accepted {
  id: string;
  at: number;
  userId: string;
}

/**
 * `sockets` SDK clients spread over the first two edges (each with the other as its fallback):
 * every fifth one an admin on both all-orders channels, the others each on its user's channel.
 */
export function twoEdgeFleet(cluster: LocalCluster, sockets: number, users: readonly string[]): FleetClientSpec[] {
  const [a, b] = cluster.edges as [LocalCluster["edges"][0], LocalCluster["edges"][0]];
  const admin = signToken(cluster.jwtSecret, { sub: "ops", admin: true });
  return Array.from({ length: sockets }, (_, i) => {
    const urls = i % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
    if (i % 5 === 0) return { urls, token: admin, channels: ["orders.created", "orders.status"] };
    const user = users[i % users.length] as string;
    return { urls, token: signToken(cluster.jwtSecret, { sub: user }), channels: [`orders.user.${user}`] };
  });
}

/**
 * `concurrency` callers creating orders one after the other until {@link stop}; every
 * acknowledged order and every failed call (with its gRPC code) is kept. `pauseMs` paces each
 * caller (a pause after every acknowledged order; 0 = as fast as the API answers).
 */
export class OrderCallers {
  readonly accepted: Accepted[] = [];
  readonly failures: { at: number; code: number | undefined }[] = [];
  private running = true;
  private readonly callers: Promise<void>[];

  constructor(grpc: OrderServiceClient, users: readonly string[], concurrency: number, pauseMs = 0) {
    let n = 0;
    this.callers = Array.from({ length: concurrency }, async () => {
      while (this.running) {
        const i = n++;
        try {
          const order = await createOrder(grpc, orderRequest(users[i % users.length] as string, i), 3000);
          this.accepted.push({ id: order.id, at: Date.now(), userId: order.userId });
          if (pauseMs > 0) await sleep(pauseMs);
        } catch (err) {
          this.failures.push({ at: Date.now(), code: (err as { code?: number }).code });
          await sleep(20);
        }
      }
    });
  }

  /** Ids of the orders acknowledged after `t` (epoch ms). */
  acceptedAfter(t: number): Set<string> {
    return new Set(this.accepted.filter((o) => o.at > t).map((o) => o.id));
  }

  /** When the first order after `t` was acknowledged; waits up to `timeoutMs` for one. */
  async firstAcceptedAfter(t: number, what: string, timeoutMs: number): Promise<number> {
    return (await waitUntil(() => this.accepted.find((o) => o.at > t)?.at, what, timeoutMs, 10)) as number;
  }

  /** Stops the callers once their calls in flight have ended. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.callers);
  }
}

/** Waits until every socket of `fleet` has received an event of an order acknowledged after `t`. */
export async function waitSocketsLive(fleet: ClientFleet, callers: OrderCallers, t: number, what: string): Promise<void> {
  await waitUntil(
    () => {
      const ids = callers.acceptedAfter(t);
      return fleet.clients.every((c) => c.channels.some((ch) => (c.events.get(ch) ?? []).some((e) => ids.has(e.orderId))));
    },
    what,
    30_000,
    25,
  );
}
