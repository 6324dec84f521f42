import type { ChannelFeed, Release } from "@orderstream/bus";

/** What the registry needs of the bus: {@link ChannelFeed}'s listen side. */
export type EventFeed = Pick<ChannelFeed, "listen" | "catchUp" | "position">;

/** Called with every frame of a channel, in order, once per node. */
export type ChannelSink = (channel: string, frame: string) => void;

interface Entry {
  count: number;
  /** Resolves when the feed listens (Redis subscription in place); rejects when it failed. */
  ready: Promise<void>;
  release: Release | undefined;
}

/**
 * The node's channels: one feed listener (so one Redis subscription) per channel, taken on the
 * first local subscriber and released on the last, refcounted per socket subscription. A failed
 * listen is rolled back: every waiter gets the error and the channel is forgotten.
 */
export class ChannelRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly feed: EventFeed,
    private readonly sink: ChannelSink,
    /** How long a subscribe may wait for Redis (it queues while Redis is away) before failing. */
    private readonly timeoutMs = 3000,
  ) {}

  /** Channels with at least one local subscriber (or one being subscribed). */
  get size(): number {
    return this.entries.size;
  }

  /** Local subscriber count of a channel. */
  count(channel: string): number {
    return this.entries.get(channel)?.count ?? 0;
  }

  /**
   * Takes one reference on `channel`; resolves once frames flow. The returned release is
   * idempotent; on rejection nothing is held.
   */
  async acquire(channel: string): Promise<Release> {
    let entry = this.entries.get(channel);
    if (!entry) entry = this.open(channel);
    entry.count++;
    const current = entry;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`subscribing to ${channel} timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([current.ready, timeout]);
    } catch (err) {
      current.count--;
      // Forget a still-pending entry nobody waits for: the next subscriber starts afresh, and
      // the late listen (if it ever succeeds) is released by open().
      if (current.count === 0 && this.entries.get(channel) === current) this.entries.delete(channel);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(channel, current);
    };
  }

  private open(channel: string): Entry {
    const entry: Entry = { count: 0, ready: Promise.resolve(), release: undefined };
    entry.ready = this.feed
      .listen(channel, (frame) => this.sink(channel, frame))
      .then(
        (release) => {
          entry.release = release;
          // Everyone gave up (timeout) while the subscription was being taken.
          if (entry.count === 0 && this.entries.get(channel) !== entry) release();
        },
        (err: unknown) => {
          if (this.entries.get(channel) === entry) this.entries.delete(channel);
          throw err;
        },
      );
    // Waiters that timed out no longer listen to this promise.
    entry.ready.catch(() => undefined);
    this.entries.set(channel, entry);
    return entry;
  }

  private release(channel: string, entry: Entry): void {
    entry.count--;
    if (entry.count > 0 || this.entries.get(channel) !== entry) return;
    this.entries.delete(channel);
    entry.release?.();
  }

  /** Drops every channel (shutdown). */
  releaseAll(): void {
    for (const [channel, entry] of this.entries) {
      this.entries.delete(channel);
      entry.release?.();
    }
  }
}
