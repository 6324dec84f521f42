import { type StreamPosition, parseOffset } from "@orderstream/domain";
import type { ChannelSubscriber, Release } from "./channel-subscriber.js";
import type { HistoryReader } from "./history-reader.js";
import { FrameCache } from "./frame-cache.js";

/** Receives a channel's frames in offset order, each exactly once. */
export type FeedListener = (frame: string, pos: StreamPosition) => void;

/** Result of {@link ChannelFeed.catchUp}. */
export interface CatchUp {
  /** False when the asked offset is no longer covered (other epoch, trimmed): refetch state. */
  recovered: boolean;
  /** The frames after the asked offset up to the last one handed to listeners. */
  frames: string[];
  /** The position of the last frame handed to listeners. */
  position: StreamPosition;
}

/** Options of {@link ChannelFeed}. */
export interface ChannelFeedOptions {
  /** Recent frames kept in memory per listened channel, to serve resumes without Redis. */
  cacheSize?: number;
  /** Most events one resume or gap repair reads from history. */
  maxRecover?: number;
  /** How long catchUp waits for live delivery to reach an offset a client already has. */
  aheadWaitMs?: number;
  /** Reports background failures (gap repair retries). */
  onError?: (err: unknown, context: { channel: string; op: string }) => void;
}

interface ChannelState {
  listeners: Set<FeedListener>;
  /** Position of the last frame delivered to listeners; epoch "" until known. */
  epoch: string;
  last: number;
  known: Promise<void>;
  /** Frames that arrived ahead of `last + 1`, by sequence, waiting for the gap to be read. */
  ahead: Map<number, string>;
  repairing: boolean;
  cache: FrameCache;
  release: Release | undefined;
  backfill: Promise<void> | undefined;
  advanced: Set<() => void>;
}

/**
 * The gap-free, duplicate-free view of channels that subscribers build on (edge sockets, gRPC
 * SubscribeOrders): one Redis subscription per channel per process, frames ordered by sequence,
 * holes (a dropped subscription, a lost message) repaired from the channel's history stream, and a
 * bounded in-memory cache of recent frames so reconnect storms resume from memory, with one
 * history read per channel in flight at a time (single flight).
 */
export class ChannelFeed {
  private readonly channels = new Map<string, ChannelState>();
  private readonly cacheSize: number;
  private readonly maxRecover: number;
  private readonly aheadWaitMs: number;
  /** History reads issued (resume backfills and gap repairs); for metrics and benchmarks. */
  historyReads = 0;

  constructor(
    private readonly subscriber: ChannelSubscriber,
    private readonly history: HistoryReader,
    private readonly opts: ChannelFeedOptions = {},
  ) {
    this.cacheSize = opts.cacheSize ?? 1000;
    this.maxRecover = opts.maxRecover ?? 10_000;
    this.aheadWaitMs = opts.aheadWaitMs ?? 2000;
    subscriber.onResubscribed(() => {
      for (const [channel, st] of this.channels) void this.repair(channel, st);
    });
  }

  /** Channels with at least one listener. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** The position of the last frame handed to a channel's listeners, when it is listened to. */
  position(channel: string): StreamPosition | undefined {
    const st = this.channels.get(channel);
    return st ? { epoch: st.epoch, seq: st.last } : undefined;
  }

  /** Adds a listener; resolves once the Redis subscription is active and the position is known. */
  async listen(channel: string, listener: FeedListener): Promise<Release> {
    let st = this.channels.get(channel);
    if (!st) {
      st = this.open(channel);
      this.channels.set(channel, st);
    }
    st.listeners.add(listener);
    const state = st;
    try {
      await state.known;
    } catch (err) {
      state.listeners.delete(listener);
      if (state.listeners.size === 0 && this.channels.get(channel) === state) this.channels.delete(channel);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.listeners.delete(listener);
      if (state.listeners.size === 0 && this.channels.get(channel) === state) {
        this.channels.delete(channel);
        state.release?.();
      }
    };
  }

  private open(channel: string): ChannelState {
    const st: ChannelState = {
      listeners: new Set(),
      epoch: "",
      last: 0,
      known: Promise.resolve(),
      ahead: new Map(),
      repairing: true,
      cache: new FrameCache(this.cacheSize),
      release: undefined,
      backfill: undefined,
      advanced: new Set(),
    };
    st.known = (async () => {
      st.release = await this.subscriber.subscribe(channel, (frame) => this.onFrame(channel, st, frame));
      try {
        const top = await this.history.position(channel);
        st.epoch = top.epoch;
        st.last = top.seq;
      } catch (err) {
        st.release();
        throw err;
      }
      st.repairing = false;
      this.drainAhead(channel, st);
    })();
    return st;
  }

  private onFrame(channel: string, st: ChannelState, frame: string): void {
    const pos = offsetOf(frame);
    if (!pos) return;
    if (pos.epoch !== st.epoch) {
      if (st.repairing && st.epoch === "") {
        st.ahead.set(pos.seq, frame);
        return;
      }
      // A new epoch: Redis lost this channel's history, and the new epoch's history starts at
      // seq 1. Start over from there: frames before this one (published before the subscription
      // was back) are read from history, not skipped.
      st.epoch = pos.epoch;
      st.last = 0;
      st.ahead.clear();
      st.cache.clear();
    }
    if (pos.seq <= st.last) return;
    if (pos.seq === st.last + 1 && !st.repairing) {
      this.deliver(channel, st, frame, pos);
      this.drainAhead(channel, st);
      return;
    }
    st.ahead.set(pos.seq, frame);
    if (!st.repairing) void this.repair(channel, st);
  }

  private deliver(channel: string, st: ChannelState, frame: string, pos: StreamPosition): void {
    st.last = pos.seq;
    st.cache.push(pos.seq, frame);
    for (const l of st.listeners) l(frame, pos);
    for (const w of st.advanced) w();
    void channel;
  }

  private drainAhead(channel: string, st: ChannelState): void {
    for (const seq of [...st.ahead.keys()].sort((a, b) => a - b)) {
      const frame = st.ahead.get(seq) as string;
      if (seq <= st.last) st.ahead.delete(seq);
      else if (seq === st.last + 1) {
        st.ahead.delete(seq);
        this.deliver(channel, st, frame, { epoch: st.epoch, seq });
      } else break;
    }
    if (st.ahead.size > 0 && !st.repairing) void this.repair(channel, st);
  }

  /** Reads what a channel missed from history and delivers it; retried until Redis answers. */
  private async repair(channel: string, st: ChannelState): Promise<void> {
    if (st.repairing && st.epoch !== "") return;
    st.repairing = true;
    try {
      for (let attempt = 0; this.channels.get(channel) === st; attempt++) {
        try {
          this.historyReads++;
          const asked = { epoch: st.epoch, seq: st.last };
          const read = await this.history.readSince(channel, asked, this.maxRecover);
          // A frame of a new epoch arrived during the read and moved the position: read again.
          if (st.epoch !== asked.epoch) continue;
          if (read.recovered) {
            for (const frame of read.frames) {
              const pos = offsetOf(frame);
              if (pos && pos.seq === st.last + 1) this.deliver(channel, st, frame, pos);
            }
          } else if (read.top.epoch !== "" && read.top.epoch !== asked.epoch) {
            // Redis lost the history (new epoch), or the channel had none: the new epoch's
            // history starts at seq 1, so read it from there instead of skipping to its end.
            st.cache.clear();
            st.ahead.clear();
            st.epoch = read.top.epoch;
            st.last = 0;
            continue;
          } else if (read.top.epoch !== "") {
            // History no longer covers the hole (trimmed): jump to the present.
            this.opts.onError?.(new Error(`history gap on ${channel} not recoverable`), { channel, op: "repair" });
            st.last = Math.min(...[read.top.seq, ...[...st.ahead.keys()].map((s) => s - 1)]);
          }
          st.repairing = false;
          this.drainAhead(channel, st);
          return;
        } catch (err) {
          this.opts.onError?.(err, { channel, op: "repair" });
          await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
        }
      }
    } finally {
      st.repairing = false;
    }
  }

  /**
   * The frames a joining subscriber missed since `since` (none without it), up to the last frame
   * handed to listeners. Call after {@link listen} resolved for the channel, and attach the
   * subscriber to the live flow in the same synchronous continuation: no gap, no duplicate.
   */
  async catchUp(channel: string, since?: StreamPosition): Promise<CatchUp> {
    const st = this.channels.get(channel);
    if (!st) throw new Error(`catchUp on ${channel}, which is not listened to`);
    await st.known;
    if (!since) return this.result(st, true, []);
    if (since.epoch !== st.epoch) return this.result(st, false, []);
    if (since.seq > st.last) await this.waitAdvance(st, since.seq);
    if (since.seq > st.last) return this.result(st, false, []);
    if (since.seq === st.last) return this.result(st, true, []);
    if (!st.cache.covers(since.seq + 1)) await this.backfill(channel, st, since);
    if (since.epoch !== st.epoch || !st.cache.covers(since.seq + 1)) return this.result(st, false, []);
    return this.result(st, true, st.cache.after(since.seq, st.last));
  }

  private result(st: ChannelState, recovered: boolean, frames: string[]): CatchUp {
    return { recovered, frames, position: { epoch: st.epoch, seq: st.last } };
  }

  private waitAdvance(st: ChannelState, seq: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        st.advanced.delete(check);
        resolve();
      };
      const check = (): void => {
        if (st.last >= seq) done();
      };
      const timer = setTimeout(done, this.aheadWaitMs);
      st.advanced.add(check);
    });
  }

  /** One history read per channel at a time; waiters re-check the cache after it lands. */
  private async backfill(channel: string, st: ChannelState, since: StreamPosition): Promise<void> {
    while (st.backfill) {
      await st.backfill.catch(() => undefined);
      if (st.cache.covers(since.seq + 1)) return;
    }
    const run = (async () => {
      this.historyReads++;
      const read = await this.history.readSince(channel, since, this.maxRecover);
      if (!read.recovered || read.top.epoch !== st.epoch) return;
      const older: [number, string][] = [];
      for (const frame of read.frames) {
        const pos = offsetOf(frame);
        if (pos && pos.seq <= st.last) older.push([pos.seq, frame]);
      }
      st.cache.prepend(older);
    })();
    st.backfill = run;
    try {
      await run;
    } finally {
      st.backfill = undefined;
    }
  }
}

/** The position carried in a frame's `offset` field, read without parsing the whole frame. */
export function offsetOf(frame: string): StreamPosition | undefined {
  const i = frame.indexOf('"offset":"');
  if (i < 0) return undefined;
  const start = i + 10;
  return parseOffset(frame.slice(start, frame.indexOf('"', start)));
}
