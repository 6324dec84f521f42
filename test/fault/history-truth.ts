import type { Redis } from "ioredis";
import { historyKey } from "@orderstream/bus";
import type { ClientFleet, SeenEvent } from "./client-fleet.js";

/** The ground truth: every event of each channel, as stored in its Redis history stream. */
export async function readHistory(redis: Redis, channels: string[]): Promise<Map<string, SeenEvent[]>> {
  const out = new Map<string, SeenEvent[]>();
  for (let i = 0; i < channels.length; i += 100) {
    const group = channels.slice(i, i + 100);
    const pipe = redis.pipeline();
    for (const ch of group) pipe.xrange(historyKey(ch), "-", "+");
    const replies = (await pipe.exec()) ?? [];
    group.forEach((ch, k) => {
      const [err, entries] = replies[k] as [Error | null, [string, string[]][]];
      if (err) throw err;
      out.set(
        ch,
        entries.map(([, fields]) => {
          const frame = JSON.parse(fields[fields.indexOf("f") + 1] ?? "{}") as {
            type: string;
            offset: string;
            data: { id: string; status: string };
          };
          return { offset: frame.offset, type: frame.type, orderId: frame.data.id, status: frame.data.status };
        }),
      );
    });
  }
  return out;
}

/** How a fleet's deliveries compare with the history streams. */
export interface SequenceCheck {
  clients: number;
  channelSubscriptions: number;
  eventsExpected: number;
  eventsDelivered: number;
  /** Subscriptions whose delivered offsets differ from the history (missing, extra, duplicate, out of order). */
  mismatched: number;
  examples: string[];
}

/**
 * Compares every client's delivered sequence of each channel with the channel's whole history:
 * the clients subscribed before the first event, so they must hold exactly that sequence.
 */
export function checkSequences(fleet: ClientFleet, truth: Map<string, SeenEvent[]>): SequenceCheck {
  const r: SequenceCheck = { clients: fleet.clients.length, channelSubscriptions: 0, eventsExpected: 0, eventsDelivered: 0, mismatched: 0, examples: [] };
  for (const c of fleet.clients) {
    for (const ch of c.channels) {
      const want = (truth.get(ch) ?? []).map((e) => e.offset);
      const got = (c.events.get(ch) ?? []).map((e) => e.offset);
      r.channelSubscriptions++;
      r.eventsExpected += want.length;
      r.eventsDelivered += got.length;
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
export function caughtUp(fleet: ClientFleet, truth: Map<string, SeenEvent[]>): boolean {
  return fleet.clients.every((c) => c.channels.every((ch) => (c.events.get(ch)?.length ?? 0) >= (truth.get(ch)?.length ?? 0)));
}
