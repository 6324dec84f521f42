import { EMPTY_CHANNEL_OFFSET, OFFSET_PATTERN } from "./wire-contract.js";

/** A parsed `<epoch>:<seq>` offset. */
export interface Position {
  epoch: string;
  seq: number;
}

/** Parses the `<epoch>:<seq>` head of an offset (see OFFSET_PATTERN); undefined when it has another shape. */
export function parsePosition(offset: unknown): Position | undefined {
  if (typeof offset !== "string") return undefined;
  const m = OFFSET_PATTERN.exec(offset);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { epoch: m[1], seq: Number(m[2]) };
}


/**
 * The last offset seen per channel: drops duplicates (an event whose seq is not above the last
 * one of the same epoch) and tells where to resume (`since`) after a reconnect. A new epoch means
 * the server lost its history and started over, so it replaces the old position.
 */
export class OffsetTracker {
  private readonly last = new Map<string, { pos: Position; offset: string }>();

  /** Whether an event at `offset` on `channel` is new; if so it becomes the channel's position. */
  accept(channel: string, offset: string): boolean {
    const pos = parsePosition(offset);
    if (!pos) return true; // not ours to judge: deliver, but do not resume from it
    const prev = this.last.get(channel);
    if (prev && prev.pos.epoch === pos.epoch && pos.seq <= prev.pos.seq) return false;
    this.last.set(channel, { pos, offset });
    return true;
  }

  /**
   * Records the position a `subscribed` reply reports. Within the same epoch the later of the two
   * wins (catch-up frames arrive before the reply); another epoch replaces the old position.
   */
  advanceTo(channel: string, offset: string): void {
    // ":0" is a channel with no history yet: resume it from its first event, not from "live now".
    const pos = offset === EMPTY_CHANNEL_OFFSET ? { epoch: "", seq: 0 } : parsePosition(offset);
    if (!pos) return;
    const prev = this.last.get(channel);
    if (prev && prev.pos.epoch === pos.epoch && pos.seq <= prev.pos.seq) return;
    this.last.set(channel, { pos, offset });
  }

  /** The last offset of `channel`, if any. */
  offset(channel: string): string | undefined {
    return this.last.get(channel)?.offset;
  }

  /** The `since` map of a subscribe frame: every given channel with a known offset. */
  since(channels: Iterable<string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const ch of channels) {
      const o = this.last.get(ch);
      if (o) out[ch] = o.offset;
    }
    return out;
  }

  /** Forgets a channel (it was unsubscribed: a later subscribe starts live). */
  forget(channel: string): void {
    this.last.delete(channel);
  }
}
