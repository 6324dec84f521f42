/** A `subscribe` frame on the wire, awaiting its `subscribed` reply. */
export interface SubscribeBatch {
  channels: string[];
  /** The channels it asked to resume (`since`): the ones a `recovered:false` reply concerns. */
  resumed: string[];
}

interface Waiting {
  channels: Set<string>;
  /** Sent alone (never merged), to find the one channel the edge refuses. */
  solo: boolean;
}

/**
 * Subscribe frames, one in flight at a time. Error frames carry no request id and the edge
 * answers a refused frame at once but a good one only after reading Redis, so with several frames
 * in flight an error could not be pinned on one; with one, it can. Channels asked for meanwhile
 * are merged into the next frame, so this costs at most one round trip of latency.
 */
export class SubscribeQueue {
  private waiting: Waiting[] = [];
  private flying: SubscribeBatch | undefined;

  /** The frame in flight, if any. */
  get inFlight(): SubscribeBatch | undefined {
    return this.flying;
  }

  /** Queues channels (merged into the last frame still waiting). */
  add(channels: Iterable<string>): void {
    const last = this.waiting[this.waiting.length - 1];
    if (last && !last.solo) for (const c of channels) last.channels.add(c);
    else this.waiting.push({ channels: new Set(channels), solo: false });
  }

  /** Queues each channel as a frame of its own, ahead of everything else. */
  addEachFirst(channels: string[]): void {
    this.waiting.unshift(...channels.map((c) => ({ channels: new Set([c]), solo: true })));
  }

  /**
   * Takes the next frame to send when none is in flight, keeping only the channels `keep` accepts;
   * `sinceOf` gives the offsets to resume from. The frame is in flight until settled or failed.
   */
  next(keep: (channel: string) => boolean, sinceOf: (channels: string[]) => Record<string, string>): { channels: string[]; since: Record<string, string> } | undefined {
    if (this.flying) return undefined;
    for (let w = this.waiting.shift(); w; w = this.waiting.shift()) {
      const channels = [...w.channels].filter(keep);
      if (channels.length === 0) continue;
      const since = sinceOf(channels);
      this.flying = { channels, resumed: Object.keys(since) };
      return { channels, since };
    }
    return undefined;
  }

  /** A `subscribed` reply for `channels`: returns the frame in flight if it is the one answered. */
  settle(channels: string[]): SubscribeBatch | undefined {
    const f = this.flying;
    const want = new Set(channels);
    if (!f || f.channels.length !== want.size || !f.channels.every((c) => want.has(c))) return undefined;
    this.flying = undefined;
    return f;
  }

  /** The frame in flight failed (error frame or no reply): returns it and frees the slot. */
  fail(): SubscribeBatch | undefined {
    const f = this.flying;
    this.flying = undefined;
    return f;
  }

  /** Forgets everything (the connection closed). */
  clear(): void {
    this.waiting = [];
    this.flying = undefined;
  }
}

/**
 * How a subscribe reacts to an error frame: `fatal` codes will fail again as sent (its channels are
 * dropped and reported), `retry` codes are transient (the subscribe is sent again after a backoff).
 */
export function subscribeErrorKind(code: string): "fatal" | "retry" | undefined {
  if (code === "bad_channel" || code === "forbidden" || code === "too_many_channels") return "fatal";
  if (code === "unavailable" || code === "internal") return "retry";
  return undefined;
}
