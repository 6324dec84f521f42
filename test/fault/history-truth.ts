import { Partitioning, type RedisConnection, isAllOrders, readChannelHistory } from "@orderstream/bus";
import type { FleetClient, SeenEvent } from "./client-fleet.js";

/** What the checks read of a fleet: its clients' channels and the events they received. */
export interface DeliveryRecord {
  clients: readonly Pick<FleetClient, "index" | "channels" | "events">[];
}

/**
 * The ground truth: every event of each channel, as stored in its Redis history (an all-orders
 * channel's partition streams one after the other: only each order's own events are in order).
 */
export async function readHistory(redis: RedisConnection, channels: string[], partitions = new Partitioning()): Promise<Map<string, SeenEvent[]>> {
  const out = new Map<string, SeenEvent[]>();
  await Promise.all(
    channels.map(async (ch) => {
      const frames = await readChannelHistory(redis, ch, partitions);
      out.set(
        ch,
        frames.map((f) => {
          const frame = JSON.parse(f) as { type: string; offset: string; data: { id: string; status: string } };
          return { offset: frame.offset, type: frame.type, orderId: frame.data.id, status: frame.data.status };
        }),
      );
    }),
  );
  return out;
}

/**
 * What a subscription must have received, in a form both sides share: a user channel's offsets in
 * order; for an all-orders channel (its offsets are composite, one per node's interleaving of the
 * partitions) each order's events in order, orders sorted by id.
 */
export function comparable(channel: string, events: readonly SeenEvent[]): string[] {
  if (!isAllOrders(channel)) return events.map((e) => e.offset);
  const byOrder = new Map<string, string[]>();
  for (const e of events) byOrder.set(e.orderId, [...(byOrder.get(e.orderId) ?? []), `${e.type}:${e.status}`]);
  return [...byOrder.keys()].sort().map((id) => `${id} ${(byOrder.get(id) ?? []).join(",")}`);
}

/** How a fleet's deliveries compare with the history streams. */
export interface SequenceCheck {
  clients: number;
  channelSubscriptions: number;
  eventsExpected: number;
  eventsDelivered: number;
  /** Subscriptions whose deliveries differ from the history (missing, extra, duplicate, out of order). */
  mismatched: number;
  examples: string[];
}

/**
 * Compares every client's delivered sequence of each channel with the channel's whole history:
 * the clients subscribed before the first event, so they must hold exactly that sequence.
 */
export function checkSequences(fleet: DeliveryRecord, truth: Map<string, SeenEvent[]>): SequenceCheck {
  const r: SequenceCheck = { clients: fleet.clients.length, channelSubscriptions: 0, eventsExpected: 0, eventsDelivered: 0, mismatched: 0, examples: [] };
  for (const c of fleet.clients) {
    for (const ch of c.channels) {
      const wantEvents = truth.get(ch) ?? [];
      const gotEvents = c.events.get(ch) ?? [];
      const want = comparable(ch, wantEvents);
      const got = comparable(ch, gotEvents);
      r.channelSubscriptions++;
      r.eventsExpected += wantEvents.length;
      r.eventsDelivered += gotEvents.length;
      if (got.length === want.length && got.every((o, i) => o === want[i])) continue;
      r.mismatched++;
      if (r.examples.length < 5) {
        const firstDiff = got.findIndex((o, i) => o !== want[i]);
        r.examples.push(
          `client ${c.index} ${ch}: got ${got.length}, want ${want.length}, first difference at ${firstDiff < 0 ? got.length : firstDiff} ` +
            `(got ${got[firstDiff < 0 ? got.length : firstDiff]}, want ${want[firstDiff < 0 ? got.length : firstDiff]})`,
        );
      }
    }
  }
  return r;
}

/** True once every client has received as many events per channel as the history holds. */
export function caughtUp(fleet: DeliveryRecord, truth: Map<string, SeenEvent[]>): boolean {
  return fleet.clients.every((c) => c.channels.every((ch) => (c.events.get(ch)?.length ?? 0) >= (truth.get(ch)?.length ?? 0)));
}
