import type { StatsCollector } from "./stats.js";
import type { DeliveryReport } from "./types.js";

/** An order the e2e driver created: its id, owner and the epoch time (ms) CreateOrder was sent. */
export interface AnnouncedOrder {
  id: string;
  userId: string;
  sentAt: number;
}

/**
 * How long arrivals of an order not (yet) announced are kept: past the RPC deadline (10 s) plus
 * the once-a-second announce batching, such an order was created by someone else (another slice
 * of the run, another client), and keeping its arrivals would grow without bound.
 */
const PENDING_TTL_MS = 15_000;

interface TrackedSocket {
  userId: string | undefined;
  allOrders: boolean;
  subscribedAt: number | undefined;
  seen: Uint8Array;
}

/**
 * Accounts for every `order.created` delivery on one fleet's sockets: a bit per (socket, order),
 * create-to-socket latency once the order's send time is known (events may beat the RPC reply),
 * and at the end which deliveries were expected (socket subscribed before the send) but missing.
 */
export class DeliveryTracker {
  private readonly index = new Map<string, number>();
  private readonly orders: (AnnouncedOrder | undefined)[] = [];
  private readonly pending = new Map<number, number[]>();
  /** Orders in `pending`, oldest first arrival first; `pendingHead` is the first live entry. */
  private pendingSince: { i: number; at: number }[] = [];
  private pendingHead = 0;
  private readonly sockets: TrackedSocket[] = [];
  private duplicates = 0;

  constructor(private readonly stats: StatsCollector) {}

  /** Registers local socket `local` with what it should see. */
  addSocket(local: number, userId: string | undefined, allOrders: boolean): void {
    this.sockets[local] = { userId, allOrders, subscribedAt: undefined, seen: new Uint8Array(64) };
  }

  /** Marks the moment the server confirmed the socket's subscription. */
  subscribed(local: number, at: number): void {
    const s = this.sockets[local];
    if (s && s.subscribedAt === undefined) s.subscribedAt = at;
  }

  private idx(orderId: string): number {
    let i = this.index.get(orderId);
    if (i === undefined) {
      i = this.orders.length;
      this.orders.push(undefined);
      this.index.set(orderId, i);
    }
    return i;
  }

  /** Records that socket `local` received `order.created` for `orderId` at epoch ms `at`. */
  received(local: number, orderId: string, at: number): void {
    const s = this.sockets[local];
    if (!s) return;
    const i = this.idx(orderId);
    const byte = i >> 3;
    if (byte >= s.seen.length) {
      const grown = new Uint8Array(Math.max(s.seen.length * 2, byte + 1));
      grown.set(s.seen);
      s.seen = grown;
    }
    const bit = 1 << (i & 7);
    if ((s.seen[byte] as number) & bit) {
      this.duplicates++;
      return;
    }
    s.seen[byte] = (s.seen[byte] as number) | bit;
    const order = this.orders[i];
    if (order) this.stats.record("delivery", at - order.sentAt);
    else {
      const list = this.pending.get(i);
      if (list) list.push(at);
      else {
        this.pending.set(i, [at]);
        this.pendingSince.push({ i, at });
        this.expirePending(at);
      }
    }
  }

  /** Drops arrivals of orders still unannounced after {@link PENDING_TTL_MS}. */
  private expirePending(now: number): void {
    const q = this.pendingSince;
    while (this.pendingHead < q.length && (q[this.pendingHead] as { at: number }).at < now - PENDING_TTL_MS) {
      this.pending.delete((q[this.pendingHead] as { i: number }).i);
      this.pendingHead++;
    }
    if (this.pendingHead > 1024 && this.pendingHead * 2 > q.length) {
      this.pendingSince = q.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** Learns created orders; latencies of deliveries that arrived first are recorded now. */
  announce(orders: AnnouncedOrder[]): void {
    for (const o of orders) {
      const i = this.idx(o.id);
      this.orders[i] = o;
      const early = this.pending.get(i);
      if (early) {
        for (const at of early) this.stats.record("delivery", at - o.sentAt);
        this.pending.delete(i);
      }
    }
  }

  /** Expected vs received over every announced order and every socket that should see it. */
  report(): DeliveryReport {
    let expected = 0;
    let received = 0;
    for (let i = 0; i < this.orders.length; i++) {
      const o = this.orders[i];
      if (!o) continue;
      const byte = i >> 3;
      const bit = 1 << (i & 7);
      for (const s of this.sockets) {
        if (!s || s.subscribedAt === undefined || s.subscribedAt > o.sentAt) continue;
        if (!s.allOrders && s.userId !== o.userId) continue;
        expected++;
        if (byte < s.seen.length && (s.seen[byte] as number) & bit) received++;
      }
    }
    const missing = expected - received;
    return { expected, received, missing, duplicates: this.duplicates, lossRatio: expected === 0 ? 0 : missing / expected };
  }
}

/** Sums fleet reports into one. */
export function mergeDelivery(reports: DeliveryReport[]): DeliveryReport {
  const r = { expected: 0, received: 0, missing: 0, duplicates: 0, lossRatio: 0 };
  for (const x of reports) {
    r.expected += x.expected;
    r.received += x.received;
    r.missing += x.missing;
    r.duplicates += x.duplicates;
  }
  r.lossRatio = r.expected === 0 ? 0 : r.missing / r.expected;
  return r;
}
