import calculateSlot from "cluster-key-slot";
import { channelOfPubsub, pubsubChannel } from "./keys.js";
import { guardRedis } from "./redis-errors.js";
import type { RedisConnection } from "./redis-connection.js";

/** Receives the frame text of every event published on a channel. */
export type FrameHandler = (frame: string, channel: string) => void;

/** Releases one subscription taken with {@link ChannelSubscriber.subscribe}. */
export type Release = () => void;

interface ChannelEntry {
  handlers: Set<FrameHandler>;
  ready: Promise<void>;
}

interface PendingSubscribe {
  channel: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * One Redis subscription per channel per process, shared by every local subscriber: taken on the
 * first handler, released on the last, SUBSCRIBE/UNSUBSCRIBE calls batched per tick, a failed
 * subscribe rolled back and reported to every waiter. Never a pattern subscription.
 */
export class ChannelSubscriber {
  private readonly entries = new Map<string, ChannelEntry>();
  private pendingSub: PendingSubscribe[] = [];
  private pendingUnsub = new Set<string>();
  private flushScheduled = false;
  private readonly sharded: boolean;
  private readonly subCmd: "subscribe" | "ssubscribe";
  private readonly unsubCmd: "unsubscribe" | "sunsubscribe";
  private readonly resubscribeListeners = new Set<() => void>();
  private wasReady = false;

  constructor(
    private readonly conn: RedisConnection,
    opts: { sharded?: boolean } = {},
  ) {
    this.sharded = opts.sharded ?? false;
    this.subCmd = opts.sharded ? "ssubscribe" : "subscribe";
    this.unsubCmd = opts.sharded ? "sunsubscribe" : "unsubscribe";
    conn.on(opts.sharded ? "smessage" : "message", (redisChannel: string, message: string) =>
      this.dispatch(redisChannel, message),
    );
    conn.on("ready", () => {
      if (this.wasReady) for (const l of this.resubscribeListeners) l();
      this.wasReady = true;
    });
    // A Redis Cluster's sharded subscribers have connections of their own: when one is lost, the
    // cluster replaces it, resubscribes its channels and emits `subscribersReady` (only after such
    // a reset, never on a quiet slots refresh). Messages of the meantime must be read from history.
    if (opts.sharded) {
      conn.on("subscribersReady", () => {
        for (const l of this.resubscribeListeners) l();
      });
    }
    if (conn.status === "ready") this.wasReady = true;
  }

  /** Number of channels this process holds a Redis subscription for. */
  get channelCount(): number {
    return this.entries.size;
  }

  /** Whether any local handler listens on `channel`. */
  has(channel: string): boolean {
    return this.entries.has(channel);
  }

  /** Names of the channels currently subscribed. */
  channels(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Called after the Redis connection came back and its subscriptions were restored; events
   * published while it was down were missed and must be read from history (gap repair).
   */
  onResubscribed(listener: () => void): () => void {
    this.resubscribeListeners.add(listener);
    return () => this.resubscribeListeners.delete(listener);
  }

  /** Adds a handler to `channel`; resolves once the Redis subscription is in place. */
  async subscribe(channel: string, handler: FrameHandler): Promise<Release> {
    let entry = this.entries.get(channel);
    if (!entry) {
      this.pendingUnsub.delete(channel);
      const ready = new Promise<void>((resolve, reject) => this.pendingSub.push({ channel, resolve, reject }));
      entry = { handlers: new Set(), ready };
      this.entries.set(channel, entry);
      this.scheduleFlush();
    }
    entry.handlers.add(handler);
    const current = entry;
    try {
      await current.ready;
    } catch (err) {
      current.handlers.delete(handler);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(channel, current, handler);
    };
  }

  private release(channel: string, entry: ChannelEntry, handler: FrameHandler): void {
    entry.handlers.delete(handler);
    if (entry.handlers.size > 0 || this.entries.get(channel) !== entry) return;
    this.entries.delete(channel);
    this.pendingUnsub.add(channel);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const subs = this.pendingSub;
    this.pendingSub = [];
    const unsubs = [...this.pendingUnsub];
    this.pendingUnsub.clear();
    if (unsubs.length > 0) {
      try {
        await Promise.all(this.bySlot(unsubs.map(pubsubChannel), (c) => c).map((group) => guardRedis(() => this.conn[this.unsubCmd](...group))));
      } catch {
        // The connection is down: its subscriptions are gone with it and are not restored for
        // channels no longer in `entries`, since ioredis restores only what it tracks as subscribed.
      }
    }
    if (subs.length === 0) return;
    // One SSUBSCRIBE names channels of one slot only: a batch goes out as one call per slot, and
    // each group succeeds or is rolled back on its own.
    await Promise.all(
      this.bySlot(subs, (s) => pubsubChannel(s.channel)).map(async (group) => {
        try {
          await guardRedis(() => this.conn[this.subCmd](...group.map((s) => pubsubChannel(s.channel))));
          for (const s of group) s.resolve();
        } catch (err) {
          for (const s of group) {
            const entry = this.entries.get(s.channel);
            if (entry) this.entries.delete(s.channel);
            s.reject(err);
          }
        }
      }),
    );
  }

  /** Items grouped so that each group's Redis channels may go in one (S)SUBSCRIBE / (S)UNSUBSCRIBE call. */
  private bySlot<T>(items: T[], redisChannelOf: (item: T) => string): T[][] {
    if (!this.sharded) return [items];
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const slot = calculateSlot(redisChannelOf(item));
      const list = groups.get(slot);
      if (list) list.push(item);
      else groups.set(slot, [item]);
    }
    return [...groups.values()];
  }

  private dispatch(redisChannel: string, message: string): void {
    const channel = channelOfPubsub(redisChannel);
    if (channel === undefined) return;
    const entry = this.entries.get(channel);
    if (!entry) return;
    for (const h of entry.handlers) h(message, channel);
  }
}
