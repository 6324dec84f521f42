import { signToken, waitUntil } from "@orderstream/testkit";
import type { OrderServiceClient } from "@orderstream/proto";
import { ClientFleet, type FleetClientSpec } from "../fault/client-fleet.js";
import { type Accepted, OrderCallers } from "../fault/failover-flow.js";
import { orderClient } from "../fault/grpc-orders.js";
import { type DeliveryCheck, allDelivered, checkDeliveries } from "./delivery-check.js";

// The load the compose test keeps on the cluster from outside: SDK clients through the load
// balancer's published port (every third one anonymous on both all-orders channels, the others
// each on its user's channel with a user token), and paced gRPC CreateOrder callers on
// order-api's published port. Checkpoints compare the deliveries with the acknowledged orders.

/** The development secret docker-compose.yml signs with (AUTH_JWT_SECRET's default). */
export const COMPOSE_JWT_SECRET = "orderstream-dev-secret-change-me";

/** What {@link ClusterLoad.start} needs. */
export interface LoadOptions {
  wsUrl: string;
  grpcPort: number;
  sockets: number;
  users: string[];
  /** gRPC callers creating orders one after the other, and the pause after each order. */
  callers: number;
  pauseMs: number;
}

/** One checkpoint: how long the deliveries took to settle, and the check of its window. */
export type Checkpoint = DeliveryCheck & { settleMs: number };

/** The SDK fleet and the order callers, started together, stopped together. */
export class ClusterLoad {
  private checkedUpTo = 0;

  private constructor(
    readonly fleet: ClientFleet,
    readonly callers: OrderCallers,
    private readonly grpc: OrderServiceClient,
  ) {}

  /** Connects and subscribes every socket, then starts the callers. */
  static async start(o: LoadOptions): Promise<ClusterLoad> {
    const fleet = new ClientFleet();
    await fleet.connect(sockets(o.wsUrl, o.sockets, o.users), 50, 60_000);
    const grpc = orderClient(o.grpcPort);
    return new ClusterLoad(fleet, new OrderCallers(grpc, o.users, o.callers, o.pauseMs), grpc);
  }

  /** Waits (at most `timeoutMs`) until the orders acknowledged since the last checkpoint reached every subscription whole, then checks them. */
  async checkpoint(timeoutMs = 60_000): Promise<Checkpoint> {
    const end = this.callers.accepted.length;
    const window = this.callers.accepted.slice(this.checkedUpTo, end);
    this.checkedUpTo = end;
    return this.settle(window, timeoutMs);
  }

  /** Waits (at most `timeoutMs`) until `orders` reached every subscription whole, then checks them. */
  async settle(orders: readonly Accepted[], timeoutMs = 60_000): Promise<Checkpoint> {
    const start = Date.now();
    await waitUntil(
      () => allDelivered(this.fleet.clients, orders),
      "every acknowledged order delivered to every subscription",
      timeoutMs,
      500,
    ).catch(() => undefined);
    return { ...checkDeliveries(this.fleet.clients, orders), settleMs: Date.now() - start };
  }

  /** Clients that lost their socket after `t` (epoch ms). */
  closedAfter(t: number): number[] {
    return this.fleet.clients.filter((c) => c.closes.some((x) => x.at > t)).map((c) => c.index);
  }

  /**
   * Waits until at least `minClosed` clients lost their socket after `t` and every client that did
   * has opened a new one since; resolves with when that was seen (epoch ms).
   */
  async reopenedAfter(t: number, minClosed: number, timeoutMs: number): Promise<number> {
    await waitUntil(
      () =>
        this.closedAfter(t).length >= minClosed &&
        this.fleet.clients.every((c) => {
          const lastClose = c.closes.filter((x) => x.at > t).at(-1);
          return lastClose === undefined || c.opens.some((x) => x.at > lastClose.at);
        }),
      "every client that lost its socket reconnected",
      timeoutMs,
      50,
    );
    return Date.now();
  }

  /** Stops the callers, closes the sockets and the gRPC client. */
  async stop(): Promise<void> {
    await this.callers.stop();
    this.fleet.close();
    this.grpc.close();
  }
}

/** The fleet's specs: every third socket anonymous on both all-orders channels. */
export function sockets(wsUrl: string, count: number, users: readonly string[]): FleetClientSpec[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 3 === 0) return { urls: [wsUrl], channels: ["orders.created", "orders.status"] };
    const user = users[i % users.length] as string;
    return { urls: [wsUrl], token: signToken(COMPOSE_JWT_SECRET, { sub: user }), channels: [`orders.user.${user}`] };
  });
}
