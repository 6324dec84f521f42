import { isAllOrders } from "@orderstream/bus";
import type { ClientFleet, SeenEvent } from "./client-fleet.js";
import { comparable } from "./history-truth.js";

// What a failover (Sentinel or Cluster) may do to a socket, checked against the history: a
// complete, ordered, duplicate-free sequence, or recovered:false followed by the new epoch's events.

/**
 * Why what a client got does not end with the channel's new-epoch history, or undefined when it
 * does. An all-orders channel's partitions move to new epochs one by one: there each order's
 * events must end with its new-epoch events (its partition's), in order, once each.
 */
export function newEpochTail(channel: string, got: readonly SeenEvent[], want: readonly SeenEvent[]): string | undefined {
  const key = (e: SeenEvent): string => `${e.type}:${e.status}`;
  if (!isAllOrders(channel)) {
    const tail = got.slice(Math.max(0, got.length - want.length));
    const at = tail.findIndex((e, i) => e.offset !== want[i]?.offset);
    if (tail.length === want.length && at < 0) return undefined;
    const epoch = want[0]?.offset.split(":")[0];
    const mine = got.filter((e) => e.offset.split(":")[0] === epoch).map((e) => e.offset);
    const wanted = new Set(want.map((e) => e.offset));
    const missing = want.filter((e) => !mine.includes(e.offset)).map((e) => e.offset);
    const epochs = [...new Set(got.map((e) => e.offset.split(":")[0]))];
    const lastOld = got
      .map((e, i) => [e, i] as const)
      .filter(([e]) => e.offset.split(":")[0] !== epoch)
      .pop();
    return `got ${got.length} (${mine.length} of the new epoch, ${new Set(mine).size} distinct, ${mine.filter((o) => !wanted.has(o)).length} not in history: ${mine
      .filter((o) => !wanted.has(o))
      .slice(0, 3)
      .join(
        " ",
      )} (history ${want[0]?.offset}..${want[want.length - 1]?.offset}); epochs ${epochs.join(" ")}), new epoch ${want.length}, missing ${missing.slice(0, 5).join(" ")}; last old-epoch event at ${lastOld?.[1]}: ${lastOld?.[0].offset}; first new at ${got.findIndex((e) => e.offset.split(":")[0] === epoch)}`;
  }
  const byOrder = (list: readonly SeenEvent[]): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const e of list) m.set(e.orderId, [...(m.get(e.orderId) ?? []), key(e)]);
    return m;
  };
  const gotBy = byOrder(got);
  for (const [id, w] of byOrder(want)) {
    const g = gotBy.get(id) ?? [];
    const tail = g.slice(Math.max(0, g.length - w.length));
    if (tail.length !== w.length || tail.some((x, i) => x !== w[i])) return `order ${id}: got [${g.join(",")}], new epoch [${w.join(",")}]`;
  }
  return undefined;
}

/** How a fleet's deliveries compare with the history after a failover (at most 5 examples per list). */
export interface FailoverCheck {
  /** Mismatches on a channel the socket was never told recovered:false for. */
  silent: string[];
  /** User channels told recovered:false whose deliveries do not end with the new epoch's history. */
  brokenAfterRecovery: string[];
  /** The same on all-orders channels (reported, not asserted: a known open point). */
  allOrdersAfterRecovery: string[];
  /** Events delivered of orders that are not in Redis any more (lost with the old primary). */
  eventsOfLostOrders: number;
}

/**
 * Every socket of `fleet` against `truth`: a mismatch is a silent gap unless the socket was told
 * recovered:false for that channel; `stored` holds the ids of the orders still in Redis.
 */
export function failoverCheck(fleet: ClientFleet, truth: Map<string, SeenEvent[]>, stored: ReadonlySet<string>): FailoverCheck {
  // A mismatch is a silent gap unless that socket was told recovered:false for the channel;
  // then what it got since must be the new epoch's history, complete, ordered, duplicate-free.
  const silent: string[] = [];
  const brokenAfterRecovery: string[] = [];
  // All-orders channels: reported, not asserted (see below).
  const allOrdersAfterRecovery: string[] = [];
  let eventsOfLostOrders = 0;
  for (const c of fleet.clients) {
    const failed = new Set(c.recoveryFailed.flat());
    for (const ch of c.channels) {
      const wantEvents = truth.get(ch) ?? [];
      const gotEvents = c.events.get(ch) ?? [];
      eventsOfLostOrders += gotEvents.filter((e) => !stored.has(e.orderId)).length;
      if (!failed.has(ch)) {
        const want = comparable(ch, wantEvents);
        const got = comparable(ch, gotEvents);
        if ((got.length !== want.length || got.some((x, i) => x !== want[i])) && silent.length < 5) {
          silent.push(`client ${c.index} ${ch}: got ${gotEvents.length}, want ${wantEvents.length}, no recovered:false`);
        }
      } else {
        const why = newEpochTail(ch, gotEvents, wantEvents);
        const list = isAllOrders(ch) ? allOrdersAfterRecovery : brokenAfterRecovery;
        if (why !== undefined && list.length < 5) list.push(`client ${c.index} ${ch} (${c.recoveryFailed.length} recoveryFailed): ${why}`);
      }
    }
  }
  return { silent, brokenAfterRecovery, allOrdersAfterRecovery, eventsOfLostOrders };
}

/**
 * Waits (at most `timeoutMs`) until every order of `ids` that survived the failover is DELIVERED:
 * its due entry was written with it, so a job lost with the old primary is queued again by the
 * due sweep. Returns the statuses at the end (`missing` = lost with the old primary).
 */
export async function survivorsDelivered(
  statuses: () => Promise<Record<string, number>>,
  timeoutMs = 30_000,
): Promise<{ statuses: Record<string, number>; stuck: number }> {
  const stuckIn = (s: Record<string, number>): number =>
    Object.entries(s).reduce((n, [k, v]) => (k === "DELIVERED" || k === "missing" ? n : n + v), 0);
  let s = await statuses();
  for (const deadline = Date.now() + timeoutMs; stuckIn(s) > 0 && Date.now() < deadline; s = await statuses()) {
    await new Promise((r) => setTimeout(r, 250));
  }
  return { statuses: s, stuck: stuckIn(s) };
}
