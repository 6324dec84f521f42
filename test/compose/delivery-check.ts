import type { FleetClient } from "../fault/client-fleet.js";
import type { Accepted } from "../fault/failover-flow.js";
import { LIFECYCLE } from "../fault/order-lifecycle-check.js";

// The ground truth of the compose test, seen from outside only: every order the API acknowledged
// goes PENDING → CONFIRMED → PROCESSING → SHIPPED → DELIVERED (the processors drive it; nothing
// cancels), so each subscription must get exactly that order's events, in that order: one
// `order.created` on `orders.created`, the four statuses on `orders.status`, all five on the
// owner's `orders.user.<id>`. Events of orders the test does not know (a call that failed after
// Redis wrote the order) are left out.

/** The events (`type:status`) a channel must carry for one order, or none when it is not its. */
export function expectedEvents(channel: string, order: Pick<Accepted, "userId">): string[] {
  const created = ["order.created:PENDING"];
  const statuses = LIFECYCLE.map((s) => `order.status:${s}`);
  if (channel === "orders.created") return created;
  if (channel === "orders.status") return statuses;
  if (channel === `orders.user.${order.userId}`) return [...created, ...statuses];
  return [];
}

/** How the fleet's deliveries compare with what the acknowledged orders must have produced. */
export interface DeliveryCheck {
  orders: number;
  subscriptions: number;
  eventsExpected: number;
  eventsDelivered: number;
  /** Expected events no subscription got (the loss). */
  missing: number;
  /** Events a subscription got twice or more. */
  duplicates: number;
  /** Subscriptions that got an order's events in another order than its lifecycle. */
  outOfOrder: number;
  /** Orders whose DELIVERED event no subscription got. */
  notDelivered: number;
  examples: string[];
}

/** Compares every subscription of `clients` with the events `orders` must have produced. */
export function checkDeliveries(
  clients: readonly Pick<FleetClient, "index" | "channels" | "events">[],
  orders: readonly Accepted[],
): DeliveryCheck {
  const r: DeliveryCheck = {
    orders: orders.length,
    subscriptions: 0,
    eventsExpected: 0,
    eventsDelivered: 0,
    missing: 0,
    duplicates: 0,
    outOfOrder: 0,
    notDelivered: 0,
    examples: [],
  };
  const deliveredSomewhere = new Set<string>();
  const note = (text: string): void => {
    if (r.examples.length < 8) r.examples.push(text);
  };
  for (const c of clients) {
    for (const ch of c.channels) {
      r.subscriptions++;
      const byOrder = new Map<string, string[]>();
      for (const e of c.events.get(ch) ?? []) {
        const list = byOrder.get(e.orderId) ?? [];
        list.push(`${e.type}:${e.status}`);
        byOrder.set(e.orderId, list);
        if (e.status === "DELIVERED") deliveredSomewhere.add(e.orderId);
      }
      for (const o of orders) {
        const want = expectedEvents(ch, o);
        if (want.length === 0) continue;
        const got = byOrder.get(o.id) ?? [];
        r.eventsExpected += want.length;
        r.eventsDelivered += got.length;
        const distinct = [...new Set(got)];
        const missing = want.filter((w) => !distinct.includes(w)).length;
        r.missing += missing;
        r.duplicates += got.length - distinct.length;
        const order = distinct.filter((g) => want.includes(g));
        const inOrder = order.every((g, i) => i === 0 || want.indexOf(g) > want.indexOf(order[i - 1] as string));
        if (!inOrder) r.outOfOrder++;
        if (missing > 0 || !inOrder || got.length !== distinct.length)
          note(`client ${c.index} ${ch} order ${o.id}: got [${got.join(", ")}]`);
      }
    }
  }
  r.notDelivered = orders.filter((o) => !deliveredSomewhere.has(o.id)).length;
  return r;
}

/** True once every subscription holds every event `orders` must have produced. */
export function allDelivered(clients: readonly Pick<FleetClient, "index" | "channels" | "events">[], orders: readonly Accepted[]): boolean {
  const c = checkDeliveries(clients, orders);
  return c.missing === 0;
}
