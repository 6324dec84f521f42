/**
 * Offsets and the resume rule. An offset is an opaque string, `<epoch>:<seq>`: `seq` grows by one
 * per event a subscriber of the channel receives, and a new epoch means the server lost the
 * channel's history (flushed, replaced). The all-orders channels, carried on several partition
 * streams, add `~<seq>.<seq>…` (the position on every partition), so a client can resume on any
 * edge node; a client keeps the whole string and reads only its `<epoch>:<seq>` head.
 *
 * The resume rule: `since` = the last offset received on a channel. If the server still holds
 * history after it (same epoch, not trimmed), it sends exactly the missed events, then the live
 * ones, with no gap and no duplicate, and answers `recovered: true`; otherwise it answers
 * `recovered: false` and the client must refetch the state the channel describes.
 */

/** A position in one stream's history: its epoch and the sequence number of the last event. */
export interface StreamPosition {
  epoch: string;
  seq: number;
}

/**
 * The offset of a channel that had no history when it was handed out (in `subscribed.offsets`):
 * resuming from it means "every event of the channel's current history", not "live from now".
 */
export const EMPTY_OFFSET = ":0";

/** Longest offset accepted (a composite offset of 256 partitions of 15-digit sequence numbers fits). */
export const MAX_OFFSET_LENGTH = 4200;

/** The shape of every offset the server sends: `<epoch>:<seq>` and, on the all-orders channels, `~<seq>.<seq>…`. */
export const OFFSET_PATTERN = /^([A-Za-z0-9]{1,32}):(\d{1,15})(?:~\d{1,15}(?:\.\d{1,15}){0,255})?$/;

/** The same shape as a JSON Schema `pattern` (no capture groups needed there). */
export const OFFSET_PATTERN_SOURCE = "^[A-Za-z0-9]{1,32}:[0-9]{1,15}(~[0-9]{1,15}(\\.[0-9]{1,15}){0,255})?$";

/** Formats a single stream's position as its offset string. */
export function formatOffset(pos: StreamPosition): string {
  return `${pos.epoch}:${pos.seq}`;
}

/** Parses a single stream's offset (`<epoch>:<seq>`, no partition tail); undefined when malformed. */
export function parseOffset(offset: unknown): StreamPosition | undefined {
  if (typeof offset !== "string" || offset.length > 64) return undefined;
  const m = /^([A-Za-z0-9]{1,32}):(\d{1,15})$/.exec(offset);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { epoch: m[1], seq: Number(m[2]) };
}

/**
 * The `<epoch>:<seq>` head of any offset the server sends (plain or composite): what a client
 * de-duplicates by. Undefined for anything of another shape (including {@link EMPTY_OFFSET}).
 */
export function offsetHead(offset: unknown): StreamPosition | undefined {
  if (typeof offset !== "string" || offset.length > MAX_OFFSET_LENGTH) return undefined;
  const m = OFFSET_PATTERN.exec(offset);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { epoch: m[1], seq: Number(m[2]) };
}

/** Whether `offset` may be sent as a `since` value: one the server sent, or {@link EMPTY_OFFSET}. */
export function isResumeOffset(offset: unknown): offset is string {
  return offset === EMPTY_OFFSET || offsetHead(offset) !== undefined;
}

/**
 * Whether an event at `next` comes after the last one seen at `prev` (the client side of the
 * resume rule): a greater seq in the same epoch, or any seq in another epoch (the server started
 * over). An event that is not after `prev` is a duplicate to drop.
 */
export function isAfter(prev: StreamPosition | undefined, next: StreamPosition): boolean {
  return prev === undefined || prev.epoch !== next.epoch || next.seq > prev.seq;
}

/**
 * The position of a channel carried on several partition streams (the all-orders channels): the
 * position reached on every partition, in partition order. On the wire it is one opaque string,
 * `<digest>:<sum>~<seq0>.<seq1>…`, where `digest` names the partitions' epochs (it changes when any
 * of them does) and `sum` is the number of events the position covers.
 */
export interface CompositePosition {
  digest: string;
  seqs: number[];
}

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

/** Formats a composite position as its offset string. */
export function formatCompositeOffset(pos: CompositePosition): string {
  let sum = 0;
  for (const s of pos.seqs) sum += s;
  return `${pos.digest}:${sum}~${pos.seqs.join(".")}`;
}

/** Parses a composite offset; undefined when malformed (the sum must match the parts). */
export function parseCompositeOffset(offset: unknown): CompositePosition | undefined {
  if (typeof offset !== "string" || offset.length > MAX_OFFSET_LENGTH) return undefined;
  const m = /^([a-z0-9]{1,13}):(\d{1,15})~(\d{1,15}(?:\.\d{1,15})*)$/.exec(offset);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const seqs = m[3].split(".").map(Number);
  let sum = 0;
  for (const s of seqs) sum += s;
  if (sum !== Number(m[2])) return undefined;
  return { digest: m[1], seqs };
}
