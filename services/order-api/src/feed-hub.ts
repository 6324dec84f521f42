import { type Broker, ChannelFeed, type ChannelFeedOptions, frameOffset } from "@orderstream/bus";
import { orderFromJson } from "@orderstream/domain";
import { parseEventFrame } from "@orderstream/wire";
import { Order } from "@orderstream/proto";
import type { Logger } from "pino";

/** One bus event as SubscribeOrders streams consume it: parsed once, encoded once per resume token. */
export interface FeedEvent {
  channel: string;
  /** The channel's offset after this event (opaque; composite on the all-orders channels). */
  offset: string;
  order: Order;
  /** The Order message bytes with `event_offset` = `token` (memoized for the last token asked). */
  encode(token: string): Buffer;
}

/** Receives a channel's events in order; `replay` marks the catch-up events delivered by attach. */
export type FeedSink = (event: FeedEvent, replay: boolean) => void;

/** Result of {@link HubLease.attach}. */
export interface AttachResult {
  /** False when history no longer covers the asked offset (nothing delivered, not attached). */
  recovered: boolean;
  /** The channel's offset after the events delivered so far. */
  offset: string;
}

/** One stream's hold on a channel (one feed reference). */
export interface HubLease {
  /** The channel's offset now: what a stream joining now resumes from later. */
  offset(): string;
  /**
   * Delivers to `sink` the events after `since` (none without it), then attaches it to the live
   * flow in the same synchronous step: no gap, no duplicate.
   */
  attach(since: string | undefined, sink: FeedSink): Promise<AttachResult>;
  /** Detaches the sink and gives the feed reference back. */
  leave(): void;
}

/** Parses an event frame into a {@link FeedEvent}; throws on a malformed frame. */
export function feedEvent(channel: string, frame: string, offset: string): FeedEvent {
  const order = orderFromJson(parseEventFrame(frame).data);
  let lastToken: string | undefined;
  let lastBytes: Buffer = Buffer.alloc(0);
  return {
    channel,
    offset,
    order,
    encode(token) {
      if (token !== lastToken) {
        lastBytes = Buffer.from(Order.encode({ ...order, eventOffset: token }).finish());
        lastToken = token;
      }
      return lastBytes;
    },
  };
}

/**
 * The SubscribeOrders side of the process's {@link ChannelFeed}: every frame is parsed once and
 * handed to the sinks attached to its channel (the in-process analogue of the edge's uWS topics).
 * Subscription state (refcount, rollback, release) stays with the feed.
 */
export class FeedHub {
  private readonly sinks = new Map<string, Set<FeedSink>>();
  private readonly feed: ChannelFeed;

  constructor(
    broker: Broker,
    private readonly log: Logger,
    opts: ChannelFeedOptions = {},
  ) {
    this.feed = new ChannelFeed(broker, (channel, frame, offset) => this.dispatch(channel, frame, offset), opts);
  }

  /** Channels held. */
  get channelCount(): number {
    return this.feed.channelCount;
  }

  /** Takes a lease on `channel`: resolves once its events flow; rejects when Redis is unreachable. */
  async open(channel: string): Promise<HubLease> {
    await this.feed.acquire(channel);
    let sink: FeedSink | undefined;
    let left = false;
    return {
      offset: () => this.feed.offset(channel) ?? "",
      leave: () => {
        if (left) return;
        left = true;
        if (sink) this.sinks.get(channel)?.delete(sink);
        if (this.sinks.get(channel)?.size === 0) this.sinks.delete(channel);
        this.feed.release(channel);
      },
      attach: async (since, s) => {
        const r = await this.feed.catchUp(channel, since);
        if (!r.recovered || left) return { recovered: r.recovered, offset: r.offset };
        // Synchronous from the catch-up on: no live event can slip in between.
        for (const frame of r.frames) {
          const ev = this.parse(channel, frame, frameOffset(frame) ?? r.offset);
          if (ev) s(ev, true);
        }
        sink = s;
        let set = this.sinks.get(channel);
        if (!set) this.sinks.set(channel, (set = new Set()));
        set.add(s);
        return { recovered: true, offset: r.offset };
      },
    };
  }

  /** Drops every channel (shutdown). */
  close(): void {
    this.sinks.clear();
    this.feed.releaseAll();
  }

  private dispatch(channel: string, frame: string, offset: string): void {
    const set = this.sinks.get(channel);
    if (!set || set.size === 0) return;
    const ev = this.parse(channel, frame, offset);
    if (!ev) return;
    for (const sink of [...set]) sink(ev, false);
  }

  private parse(channel: string, frame: string, offset: string): FeedEvent | undefined {
    try {
      return feedEvent(channel, frame, offset);
    } catch (err) {
      this.log.error({ err, channel, frame: frame.slice(0, 200) }, "skipping malformed event frame");
      return undefined;
    }
  }
}
