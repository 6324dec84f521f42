import { EMPTY_OFFSET, type StreamPosition, isAfter, offsetHead } from "@orderstream/wire";

/**
 * The last offset seen per channel, by the wire's resume rule: drops duplicates (an event that is
 * not after the last one) and tells where to resume (`since`) after a reconnect. A new epoch means
 * the server lost its history and started over, so it replaces the old position.
 */
export class OffsetTracker {
  private readonly last = new Map<string, { pos: StreamPosition; offset: string }>();

  /** Whether an event at `offset` on `channel` is new; if so it becomes the channel's position. */
  accept(channel: string, offset: string): boolean {
    const pos = offsetHead(offset);
    if (!pos) return true; // not ours to judge: deliver, but do not resume from it
    if (!isAfter(this.last.get(channel)?.pos, pos)) return false;
    this.last.set(channel, { pos, offset });
    return true;
  }

  /**
   * Records the position a `subscribed` reply reports. Within the same epoch the later of the two
   * wins (catch-up frames arrive before the reply); another epoch replaces the old position.
   */
  advanceTo(channel: string, offset: string): void {
    // ":0" is a channel with no history yet: resume it from its first event, not from "live now".
    const pos = offset === EMPTY_OFFSET ? { epoch: "", seq: 0 } : offsetHead(offset);
    if (pos && isAfter(this.last.get(channel)?.pos, pos)) this.last.set(channel, { pos, offset });
  }

  /** The last offset of `channel`, if any. */
  offset(channel: string): string | undefined {
    return this.last.get(channel)?.offset;
  }

  /** Forgets a channel (it was unsubscribed: a later subscribe starts live). */
  forget(channel: string): void {
    this.last.delete(channel);
  }
}
