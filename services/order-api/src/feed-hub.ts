import { type ChannelFeed, type Release, offsetOf } from "@orderstream/bus";
import { type StreamPosition, orderFromJson, parseEventFrame } from "@orderstream/domain";
import { Order } from "@orderstream/proto";
import type { Logger } from "pino";

/** One bus event as SubscribeOrders streams consume it: parsed once, encoded once per resume token. */
export interface FeedEvent {
  channel: string;
  pos: StreamPosition;
  order: Order;
  /** The Order message bytes with `event_offset` = `token` (memoized for the last token asked). */
  encode(token: string): Buffer;
}

/** Receives a channel's events in order; `replay` marks the catch-up events delivered by attach. */
export type FeedSink = (event: FeedEvent, replay: boolean) => void;

/** Result of {@link HubLease.attach}. */
export interface AttachResult {
  /** False when history no longer covers the asked position (nothing delivered, not attached). */
  recovered: boolean;
  /** The position of the last event delivered to the sink. */
  position: StreamPosition;
}

/** One stream's hold on a channel's shared listen. */
export interface HubLease {
  /** The position of the last event handed to the channel's sinks. */
  position(): StreamPosition;
  /**
   * Delivers to `sink` the events after `since` (epoch "" = from the start of the current
   * history), then attaches it to the live flow in the same synchronous step: no gap, no duplicate.
   */
  attach(since: StreamPosition, sink: FeedSink): Promise<AttachResult>;
  /** Detaches the sink; the channel's shared listen ends with its last lease. */
  leave(): void;
}

interface HubEntry {
  sinks: Set<FeedSink>;
  refs: number;
  listening: Promise<Release>;
}

/** Parses an event frame into a {@link FeedEvent}; throws on a malformed frame. */
export function feedEvent(channel: string, frame: string, pos: StreamPosition): FeedEvent {
  const order = orderFromJson(parseEventFrame(frame).data);
  let lastToken: string | undefined;
  let lastBytes: Buffer = Buffer.alloc(0);
  return {
    channel,
    pos,
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
 * Shares one {@link ChannelFeed.listen} per channel among every SubscribeOrders stream of the
 * process; each frame is parsed once and handed to all attached sinks.
 */
export class FeedHub {
  private readonly entries = new Map<string, HubEntry>();

  constructor(
    private readonly feed: ChannelFeed,
    private readonly log: Logger,
  ) {}

  /** Channels with a shared listen. */
  get channelCount(): number {
    return this.entries.size;
  }

  /** Takes a lease on `channel`: resolves once its shared listen is active; rejects when Redis is unreachable. */
  async open(channel: string): Promise<HubLease> {
    const entry = this.entryFor(channel);
    entry.refs++;
    let sink: FeedSink | undefined;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      if (sink) entry.sinks.delete(sink);
      this.unref(channel, entry);
    };
    try {
      await entry.listening;
    } catch (err) {
      leave();
      throw err;
    }
    const position = (): StreamPosition => this.feed.position(channel) ?? { epoch: "", seq: 0 };
    return {
      position,
      leave,
      attach: async (since, s) => {
        // Epoch "": the channel had no history when the position was taken, so everything in its
        // current epoch is new to this subscriber.
        const from = since.epoch === "" ? { epoch: position().epoch, seq: 0 } : since;
        const r = await this.feed.catchUp(channel, from);
        if (!r.recovered || left) return { recovered: r.recovered, position: r.position };
        for (const frame of r.frames) {
          const ev = this.parse(channel, frame);
          if (ev) s(ev, true);
        }
        sink = s;
        entry.sinks.add(s);
        return { recovered: true, position: r.position };
      },
    };
  }

  private entryFor(channel: string): HubEntry {
    const existing = this.entries.get(channel);
    if (existing) return existing;
    const entry: HubEntry = { sinks: new Set(), refs: 0, listening: Promise.resolve(() => undefined) };
    entry.listening = this.feed.listen(channel, (frame, pos) => this.dispatch(channel, entry, frame, pos));
    entry.listening.catch(() => {
      if (this.entries.get(channel) === entry) this.entries.delete(channel);
    });
    this.entries.set(channel, entry);
    return entry;
  }

  private unref(channel: string, entry: HubEntry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    if (this.entries.get(channel) === entry) this.entries.delete(channel);
    entry.listening.then(
      (release) => release(),
      () => undefined,
    );
  }

  private dispatch(channel: string, entry: HubEntry, frame: string, pos: StreamPosition): void {
    if (entry.sinks.size === 0) return;
    const ev = this.parse(channel, frame, pos);
    if (!ev) return;
    for (const sink of [...entry.sinks]) sink(ev, false);
  }

  private parse(channel: string, frame: string, pos?: StreamPosition): FeedEvent | undefined {
    try {
      const p = pos ?? offsetOf(frame);
      if (!p) throw new Error("frame has no offset");
      return feedEvent(channel, frame, p);
    } catch (err) {
      this.log.error({ err, channel, frame: frame.slice(0, 200) }, "skipping malformed event frame");
      return undefined;
    }
  }
}

