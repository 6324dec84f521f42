/**
 * A position in a channel's history: the channel's epoch (changes when Redis lost the history,
 * e.g. flushed or replaced) and a sequence number that grows by one per event. On the wire it is
 * the opaque string `<epoch>:<seq>`.
 */
export interface StreamPosition {
  epoch: string;
  seq: number;
}

/**
 * The offset of a channel that had no history when it was handed out: resuming from it means
 * "every event of the channel's current history" (the wire contract's EMPTY_CHANNEL_OFFSET).
 */
export const EMPTY_OFFSET = ":0";

/** Formats a position as its opaque offset string. */
export function formatOffset(pos: StreamPosition): string {
  return `${pos.epoch}:${pos.seq}`;
}

/** Parses an offset string; undefined when malformed. */
export function parseOffset(offset: unknown): StreamPosition | undefined {
  if (typeof offset !== "string" || offset.length > 64) return undefined;
  const m = /^([A-Za-z0-9]{1,32}):(\d{1,15})$/.exec(offset);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { epoch: m[1], seq: Number(m[2]) };
}

/**
 * The offset of a channel carried on several partition streams (the all-orders channels): the
 * position reached on every partition, in partition order. On the wire it stays one opaque string,
 * `<digest>:<sum>~<seq0>.<seq1>…`, where `digest` names the partitions' epochs (it changes when
 * any of them does) and `sum` is the number of events the position covers (it grows by one per
 * event a subscriber receives), so `<digest>:<sum>` reads as an ordinary `<epoch>:<seq>` to a
 * client that only drops duplicates and spots epoch changes.
 */
export interface CompositePosition {
  digest: string;
  seqs: number[];
}

/** Longest composite offset accepted (256 partitions of 15-digit sequence numbers fit). */
export const MAX_COMPOSITE_OFFSET_LENGTH = 4200;

/** The digest of the partitions' epochs, in partition order (FNV-1a, base 36). */
export function epochDigest(epochs: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const e of epochs) {
    for (let i = 0; i < e.length; i++) {
      h ^= e.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x2c; // ","
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** Formats a composite position as its opaque offset string. */
export function formatCompositeOffset(pos: CompositePosition): string {
  let sum = 0;
  for (const s of pos.seqs) sum += s;
  return `${pos.digest}:${sum}~${pos.seqs.join(".")}`;
}

/** Parses a composite offset; undefined when malformed (the sum must match the parts). */
export function parseCompositeOffset(offset: unknown): CompositePosition | undefined {
  if (typeof offset !== "string" || offset.length > MAX_COMPOSITE_OFFSET_LENGTH) return undefined;
  const m = /^([a-z0-9]{1,13}):(\d{1,15})~(\d{1,15}(?:\.\d{1,15})*)$/.exec(offset);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const seqs = m[3].split(".").map(Number);
  let sum = 0;
  for (const s of seqs) sum += s;
  if (sum !== Number(m[2])) return undefined;
  return { digest: m[1], seqs };
}
