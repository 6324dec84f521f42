import { randomUUID } from "node:crypto";
import calculateSlot from "cluster-key-slot";

/** Redis Cluster hash slots. */
export const CLUSTER_SLOTS = 16384;

/**
 * Default number of partitions. 12 spreads evenly over 1, 2, 3, 4, 6 or 12 masters (each
 * partition's tag is placed in its own 1/12 of the slot space, and `redis-cli --cluster create`
 * gives masters equal contiguous slot ranges), and costs 12 BullMQ workers per processor.
 */
export const DEFAULT_PARTITIONS = 12;

/** Most partitions accepted: each one is a BullMQ queue every processor polls. */
export const MAX_PARTITIONS = 256;

/**
 * The partitions the write path is split into. A user belongs to a partition (by its id), and so
 * do its orders (an order id carries its partition) and its channel; all of a partition's keys
 * (orders, idempotency keys, due set, BullMQ queue, user channels, all-orders streams) carry the
 * partition's hash tag, so one script touches one slot. Tags are chosen so that
 * partition `p` hashes into the `p`-th equal share of the slot space: partitions spread evenly
 * over masters that own equal slot ranges. The count must be the same for every service and must
 * not change while orders are live (an order's keys are found through its partition).
 */
export class Partitioning {
  readonly count: number;
  private readonly tags: string[];

  constructor(count: number = DEFAULT_PARTITIONS) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS)
      throw new RangeError(`PARTITIONS must be an integer from 1 to ${MAX_PARTITIONS}, got ${count}`);
    this.count = count;
    this.tags = Array.from({ length: count }, (_, p) => tagFor(p, count));
  }

  /** The hash tag (without braces) of partition `p`. */
  tag(p: number): string {
    const t = this.tags[p];
    if (t === undefined) throw new RangeError(`no partition ${p} (of ${this.count})`);
    return t;
  }

  /** Every partition number, 0 to count - 1. */
  all(): number[] {
    return Array.from({ length: this.count }, (_, p) => p);
  }

  /**
   * The partition an order id belongs to: for a UUID (the ids order-api makes), its last four hex
   * digits modulo the count (random in a v4 UUID, and set by {@link newOrderId}); for any other
   * string, its FNV-1a hash.
   */
  of(orderId: string): number {
    if (orderId.length === 36 && orderId.charCodeAt(23) === 45 /* - */) {
      const tail = Number.parseInt(orderId.slice(32), 16);
      if (!Number.isNaN(tail)) return tail % this.count;
    }
    return fnv1a(orderId) % this.count;
  }

  /**
   * The partition of a user: where its orders, idempotency keys and channel live (docs/architecture.md: an
   * order lives in its owner's partition), so one event is one script in one slot.
   */
  ofUser(userId: string): number {
    return fnv1a(userId) % this.count;
  }

  /** A new order id (a v4 UUID) that belongs to partition `p`, or to a random one. */
  newOrderId(p?: number): string {
    const id = randomUUID();
    if (p === undefined) return id;
    // Keep the tail random, but congruent to p: a uniform pick among 0..65535 with tail % count = p.
    const tail = p + this.count * Math.floor(Math.random() * Math.floor((0x10000 - p - 1) / this.count + 1));
    return id.slice(0, 32) + tail.toString(16).padStart(4, "0");
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units: a cheap, stable hash for partitioning. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The first hash tag `<prefix>.<n>` (n = 0, 1, …) whose Redis Cluster slot `accept` takes. */
export function tagWithSlot(prefix: string, accept: (slot: number) => boolean): string {
  for (let n = 0; ; n++) {
    const tag = `${prefix}.${n}`;
    if (accept(calculateSlot(tag))) return tag;
  }
}

/** Partition p's tag: one whose slot lies in the p-th of `count` equal shares of the slot space. */
function tagFor(p: number, count: number): string {
  return tagWithSlot(String(p), (slot) => Math.floor((slot * count) / CLUSTER_SLOTS) === p);
}

/**
 * Parses a partition subset such as `0-3,7` (or `all`) into partition numbers; throws a message
 * naming the problem. Used for processors that consume an assigned subset.
 */
export function parsePartitionSet(spec: string, count: number): number[] {
  const s = spec.trim();
  if (s === "" || s === "all") return Array.from({ length: count }, (_, p) => p);
  const out = new Set<number>();
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new RangeError(`"${part}" is not a partition number or range (like 0-3,7)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to || to >= count) throw new RangeError(`"${part}" is outside 0-${count - 1}`);
    for (let p = from; p <= to; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}
