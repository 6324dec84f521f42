import calculateSlot from "cluster-key-slot";
import { type EventType, orderJsonWithStatus, userChannel } from "@orderstream/domain";
import { CHANNEL_APPEND_LUA, ORDER_ACK_LUA } from "./event-scripts.js";
import { type HistoryOptions, newEpoch } from "./history-options.js";
import { appliedKey, historyKey, metaKey, orderKey, pendingKey, pubsubChannel } from "./keys.js";
import type { Partitioning } from "./partitions.js";
import { guardRedis } from "./redis-errors.js";
import type { RedisConnection } from "./redis-connection.js";

/**
 * How much earlier than its lease end a writer stops appending an event, and how much later than
 * the lease end an event's applied markers are deleted: covers clock skew between Redis masters.
 */
export const LEASE_SKEW_MARGIN_MS = 1000;

/** Most events one channel-append script carries (bounds how long it holds Redis). */
const MAX_EVENTS_PER_SCRIPT = 256;

/** The still-pending events of one order, as an order step or a claim hands them out. */
export interface PendingEvents {
  orderId: string;
  partition: number;
  userId: string;
  /** The order's JSON text without its closing brace and status (see orderJsonPrefix). */
  prefix: string;
  /** Version of the first pending event; later ones follow in order. */
  firstVersion: number;
  /** Status of each pending event, oldest first. */
  statuses: string[];
  /** Epoch ms (the partition master's clock) after which this writer may not append them. */
  deadline: number;
}

/** The deadline a writer gets for a lease that ends at `leaseEndMs` (the skew margin before it). */
export function writerDeadline(leaseEndMs: unknown): number {
  return Number(leaseEndMs) - LEASE_SKEW_MARGIN_MS;
}

/**
 * The pending events an order step or a claim hands out, from its reply fields: the acked version
 * and the comma-joined statuses of the versions after it.
 */
export function pendingEventsOf(
  order: { orderId: string; partition: number; userId: string; prefix: string },
  acked: unknown,
  pendingStatuses: unknown,
  deadline: number,
): PendingEvents {
  const statuses = String(pendingStatuses ?? "").split(",").filter((s) => s !== "");
  return { ...order, firstVersion: Number(acked) + 1, statuses, deadline };
}

type WriterConn = RedisConnection & {
  osChannelAppend(numKeys: number, ...args: (string | number)[]): Promise<string[]>;
  osOrderAck(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

interface Append {
  ev: PendingEvents;
  version: number;
  type: EventType;
  json: string;
}

/** Options of {@link EventWriter}. */
export interface EventWriterOptions {
  history: HistoryOptions;
  sharded: boolean;
  partitions: Partitioning;
  /** Reports background failures (acks, marker clean-up); the repair sweep covers them. */
  onError?: (err: unknown, op: string) => void;
}

/**
 * The channel half of the write path: appends pending order events to the user's channel (the
 * order step already put them on the partition's all-orders stream), in version order per order,
 * one script call per slot per round; then acks them in the partition and, once no lease on them
 * can still be live, deletes their applied markers. A retried append is a no-op (the marker), so
 * the order step and the channel step may be repeated by anyone, in any interleaving, and every
 * channel still holds each event exactly once.
 */
export class EventWriter {
  private readonly conn: WriterConn;
  private readonly appliedTtlMs: number;
  private readonly cleanups: { at: number; keys: Map<string, string[]> }[] = [];
  private cleanupTimer: NodeJS.Timeout | undefined;
  private readonly acking = new Set<Promise<void>>();

  constructor(
    conn: RedisConnection,
    private readonly opts: EventWriterOptions,
  ) {
    const c = conn as WriterConn;
    if (typeof c.osChannelAppend !== "function") {
      conn.defineCommand("osChannelAppend", { lua: CHANNEL_APPEND_LUA });
      conn.defineCommand("osOrderAck", { lua: ORDER_ACK_LUA });
    }
    this.conn = c;
    // A marker outlives any sensible repair delay; it is normally deleted right after its lease.
    this.appliedTtlMs = opts.history.metaTtlMs;
  }

  /**
   * Appends the events to their channels and resolves once they are all there (or handed to the
   * repair sweep because a lease ran out); acks and marker clean-up go on in the background.
   */
  async complete(list: readonly PendingEvents[]): Promise<void> {
    const done = new Map<PendingEvents, number>(); // events appended per order so far
    let round = list.filter((ev) => ev.statuses.length > 0);
    const applied: { channel: string; orderId: string; version: number }[] = [];
    for (let r = 0; round.length > 0; r++) {
      const byChannel = new Map<string, Append[]>();
      for (const ev of round) {
        const version = ev.firstVersion + r;
        const status = ev.statuses[r] as string;
        const type: EventType = version === 1 ? "order.created" : "order.status";
        const json = orderJsonWithStatus(ev.prefix, status);
        // The order step already put the event on its partition's all-orders stream.
        const ch = userChannel(ev.userId);
        let items = byChannel.get(ch);
        if (!items) byChannel.set(ch, (items = []));
        items.push({ ev, version, type, json });
      }
      const stopped = new Set<PendingEvents>();
      await Promise.all(
        this.groups(byChannel).map(async (group) => {
          const results = await this.append(group);
          let i = 0;
          for (const [channel, items] of group) {
            for (const item of items) {
              if (results[i++] === "x") stopped.add(item.ev);
              else applied.push({ channel, orderId: item.ev.orderId, version: item.version });
            }
          }
        }),
      );
      for (const ev of round) if (!stopped.has(ev)) done.set(ev, r + 1);
      round = round.filter((ev) => !stopped.has(ev) && ev.statuses.length > r + 1);
    }
    const ack = this.ack(done, applied).catch((err: unknown) => this.opts.onError?.(err, "ack"));
    this.acking.add(ack);
    void ack.finally(() => this.acking.delete(ack));
  }

  /**
   * Channels whose appends can share one script call: on a cluster those of one slot, on a single
   * node all of them; at most {@link MAX_EVENTS_PER_SCRIPT} events per call.
   */
  private groups(byChannel: Map<string, Append[]>): [string, Append[]][][] {
    const bySlot = new Map<number, [string, Append[]][]>();
    for (const entry of byChannel) {
      const slot = this.opts.sharded ? calculateSlot(historyKey(entry[0])) : 0;
      const list = bySlot.get(slot);
      if (list) list.push(entry);
      else bySlot.set(slot, [entry]);
    }
    const out: [string, Append[]][][] = [];
    for (const channels of bySlot.values()) {
      let group: [string, Append[]][] = [];
      let events = 0;
      for (const entry of channels) {
        if (events > 0 && events + entry[1].length > MAX_EVENTS_PER_SCRIPT) {
          out.push(group);
          group = [];
          events = 0;
        }
        group.push(entry);
        events += entry[1].length;
      }
      if (group.length > 0) out.push(group);
    }
    return out;
  }

  /** One script call appending to every channel of `group`; one result per event, in order. */
  private async append(group: [string, Append[]][]): Promise<string[]> {
    const h = this.opts.history;
    const keys: string[] = [];
    const payloads: (string | number)[] = [];
    const index = new Map<string, number>();
    const channels: (string | number)[] = [group.length];
    for (const [channel, items] of group) {
      keys.push(historyKey(channel), metaKey(channel), pubsubChannel(channel));
      channels.push(channel, items.length);
      for (const it of items) {
        keys.push(appliedKey(channel, it.ev.orderId, it.version));
        // One payload per event (the same order JSON goes to each of its channels).
        const id = `${it.ev.orderId}:${it.version}`;
        let n = index.get(id);
        if (n === undefined) {
          n = index.size + 1;
          index.set(id, n);
          payloads.push(it.type, it.json, it.ev.deadline);
        }
        channels.push(n);
      }
    }
    const head = [newEpoch(), h.size, h.ttlMs, h.metaTtlMs, this.opts.sharded ? "SPUBLISH" : "PUBLISH", this.appliedTtlMs, index.size];
    return guardRedis(() => this.conn.osChannelAppend(keys.length, ...keys, ...head, ...payloads, ...channels));
  }

  /** Acks per partition, then schedules the deletion of the markers of what was acked. */
  private async ack(done: Map<PendingEvents, number>, applied: { channel: string; orderId: string; version: number }[]): Promise<void> {
    const byPartition = new Map<number, [PendingEvents, number][]>();
    for (const [ev, n] of done) {
      let list = byPartition.get(ev.partition);
      if (!list) byPartition.set(ev.partition, (list = []));
      list.push([ev, ev.firstVersion + n - 1]);
    }
    let cleanAfterMs = 0;
    await Promise.all(
      [...byPartition].map(async ([p, list]) => {
        const tag = this.opts.partitions.tag(p);
        const keys = [pendingKey(tag), ...list.map(([ev]) => orderKey(tag, ev.orderId))];
        const args = list.flatMap(([ev, version]) => [ev.orderId, version]);
        const reply = await guardRedis(() => this.conn.osOrderAck(keys.length, ...keys, ...args));
        const now = Number(reply[0]);
        for (let i = 1; i < reply.length; i++) cleanAfterMs = Math.max(cleanAfterMs, Number(reply[i]) - now);
      }),
    );
    const acked = new Map([...done].map(([ev, n]) => [ev.orderId, ev.firstVersion + n - 1]));
    // Grouped so that one DEL may carry each group: a channel's markers share its slot, and on a
    // single node any keys may go together.
    const keys = new Map<string, string[]>();
    for (const a of applied) {
      if (a.version > (acked.get(a.orderId) ?? 0)) continue;
      const group = this.opts.sharded ? a.channel : "";
      let list = keys.get(group);
      if (!list) keys.set(group, (list = []));
      list.push(appliedKey(a.channel, a.orderId, a.version));
    }
    if (keys.size > 0) this.scheduleCleanup(Date.now() + cleanAfterMs + LEASE_SKEW_MARGIN_MS, keys);
  }

  private scheduleCleanup(at: number, keys: Map<string, string[]>): void {
    this.cleanups.push({ at, keys });
    if (!this.cleanupTimer) this.cleanupTimer = setTimeout(() => this.runCleanups(), 250).unref();
  }

  private runCleanups(): void {
    this.cleanupTimer = undefined;
    const now = Date.now();
    const due = new Map<string, string[]>();
    for (let i = 0; i < this.cleanups.length; ) {
      const c = this.cleanups[i] as { at: number; keys: Map<string, string[]> };
      if (c.at > now) {
        i++;
        continue;
      }
      this.cleanups.splice(i, 1);
      for (const [ch, ks] of c.keys) {
        const list = due.get(ch);
        if (list) list.push(...ks);
        else due.set(ch, [...ks]);
      }
    }
    // One DEL per group (see ack).
    for (const ks of due.values()) {
      for (let i = 0; i < ks.length; i += 500) {
        this.conn.del(...ks.slice(i, i + 500)).catch((err: unknown) => this.opts.onError?.(err, "marker clean-up"));
      }
    }
    if (this.cleanups.length > 0) this.cleanupTimer = setTimeout(() => this.runCleanups(), 250).unref();
  }

  /** Waits for background acks; markers not yet due stay (they expire on their own). */
  async close(): Promise<void> {
    while (this.acking.size > 0) await Promise.allSettled([...this.acking]);
    if (this.cleanupTimer) clearTimeout(this.cleanupTimer);
    this.cleanupTimer = undefined;
    this.cleanups.length = 0;
  }
}
