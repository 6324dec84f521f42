/**
 * The one owner of a process's channel subscriptions (refcount, batching, rollback, release) and
 * the merge of the all-orders channels' partition streams into one channel with composite offsets.
 */
import {
  EMPTY_OFFSET,
  type StreamPosition,
  epochDigest,
  formatCompositeOffset,
  formatOffset,
  parseCompositeOffset,
  parseOffset,
} from "@orderstream/wire";
import type { Broker } from "./broker.js";
import { ChannelStream, type StreamTake, withOffset } from "./channel-stream.js";
import { channelStreams } from "./channel-history.js";
import { isAllOrders } from "../layout/keys.js";
import { Partitioning } from "../layout/partitions.js";

/** Receives every frame of every held channel, in order, once per process (the node's fan-out). */
export type FeedHandler = (channel: string, frame: string, offset: string) => void;

/** Result of {@link ChannelFeed.catchUp}. */
export interface CatchUp {
  /** False when the asked offset is no longer covered (other epoch, trimmed): refetch state. */
  recovered: boolean;
  /** The frames after the asked offset up to the last one handed to the handler. */
  frames: string[];
  /** The channel's offset after `frames`: where the caller now stands. */
  offset: string;
}

/** Options of {@link ChannelFeed}. */
export interface ChannelFeedOptions {
  /** Recent frames kept in memory per channel (split over the partitions of an all-orders one), to serve resumes without the broker. */
  cacheSize?: number;
  /** Most events one resume or gap repair reads from history. */
  maxRecover?: number;
  /** How long catchUp waits for live delivery to reach an offset a client already has. */
  aheadWaitMs?: number;
  /** How long an acquire may wait for the broker while Redis is away (it queues) before failing; 10x that while Redis is connected. */
  subscribeTimeoutMs?: number;
  /** The partitions the all-orders channels are carried on (PARTITIONS; the writers' count). */
  partitions?: Partitioning;
  /** Reports background failures (gap repair retries). */
  onError?: (err: unknown, context: { channel: string; op: string }) => void;
}

/** How many subscribe timeouts an acquire waits while the broker is connected. */
const CONNECTED_WAIT_FACTOR = 10;

/** Fewest recent frames kept per partition stream. */
const MIN_PARTITION_CACHE = 16;

interface Entry {
  refs: number;
  /** Resolves once every stream is subscribed and positioned; rejects when that failed. */
  ready: Promise<void>;
  /** One stream, or one per partition for an all-orders channel. */
  streams: ChannelStream[];
  closed: boolean;
}

interface Waiter {
  channels: string[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The one owner of a process's channel subscriptions: a channel is subscribed at the broker on its
 * first reference and released on its last (refcount), subscriptions of one tick go out as one
 * batch, a failed one is rolled back and reported to every waiter. Every frame reaches the one
 * {@link FeedHandler} in order, exactly once, holes repaired from history ({@link ChannelStream}).
 * An all-orders channel is carried on one stream per partition: the feed merges them into one
 * channel whose offset is composite (every partition's position), so a subscriber resumes on any
 * node with no gap and no duplicate.
 */
export class ChannelFeed {
  private readonly entries = new Map<string, Entry>();
  private readonly streams = new Map<string, ChannelStream>();
  private readonly partitions: Partitioning;
  private readonly timeoutMs: number;
  private readonly tuning: ConstructorParameters<typeof ChannelStream>[2];
  private batch: Waiter[] = [];
  private unsubBatch = new Set<string>();
  private flushScheduled = false;
  /** History reads issued (resume backfills and gap repairs); for metrics and benchmarks. */
  historyReads = 0;

  constructor(
    private readonly broker: Broker,
    private readonly handler: FeedHandler,
    opts: ChannelFeedOptions = {},
  ) {
    this.partitions = opts.partitions ?? new Partitioning();
    this.timeoutMs = opts.subscribeTimeoutMs ?? 3000;
    this.tuning = {
      cacheSize: opts.cacheSize ?? 1000,
      maxRecover: opts.maxRecover ?? 10_000,
      aheadWaitMs: opts.aheadWaitMs ?? 2000,
      countRead: () => this.historyReads++,
      onError: opts.onError,
    };
    broker.setHandler({
      onFrame: (name, frame) => this.streams.get(name)?.onFrame(frame),
      onResubscribed: () => {
        for (const s of this.streams.values()) void s.repair();
      },
    });
  }

  /** Channels held (or being subscribed). */
  get channelCount(): number {
    return this.entries.size;
  }

  /** References held on `channel`. */
  count(channel: string): number {
    return this.entries.get(channel)?.refs ?? 0;
  }

  /**
   * Takes one reference on `channel`; resolves once its frames flow to the handler. Rejects (and
   * holds nothing) when the broker refused or did not answer within the subscribe timeout.
   */
  async acquire(channel: string): Promise<void> {
    let entry = this.entries.get(channel);
    if (!entry) {
      entry = this.open(channel);
      this.entries.set(channel, entry);
    }
    entry.refs++;
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    const timeout = new Promise<never>((_, reject) => {
      // Given up after the timeout while the broker is away; while it is connected the answer is
      // only slow (a busy broker or process): waited for up to 10 timeouts, since giving up would
      // have the client retry and add to the load that made it slow.
      const check = (): void => {
        if (this.mayWaitLonger(started)) timer = setTimeout(check, this.timeoutMs);
        else reject(new Error(`subscribing to ${channel} timed out after ${Date.now() - started} ms`));
      };
      timer = setTimeout(check, this.timeoutMs);
    });
    try {
      await Promise.race([entry.ready, timeout]);
    } catch (err) {
      this.unref(channel, entry);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Gives back one reference taken with {@link acquire}; the last one unsubscribes. */
  release(channel: string): void {
    const entry = this.entries.get(channel);
    if (entry) this.unref(channel, entry);
  }

  private unref(channel: string, entry: Entry): void {
    if (entry.closed) return;
    entry.refs--;
    if (entry.refs > 0) return;
    this.close(channel, entry);
  }

  /** Drops every channel (shutdown). */
  releaseAll(): void {
    for (const [channel, entry] of this.entries) this.close(channel, entry);
  }

  /** The offset a held channel stands at (what a subscriber joining now resumes from later). */
  offset(channel: string): string | undefined {
    const entry = this.entries.get(channel);
    if (!entry) return undefined;
    return isAllOrders(channel) ? this.composite(entry.streams) : formatOffset((entry.streams[0] as ChannelStream).position());
  }

  private open(channel: string): Entry {
    const names = channelStreams(channel, this.partitions);
    const entry: Entry = { refs: 0, ready: Promise.resolve(), streams: [], closed: false };
    const allOrders = isAllOrders(channel);
    // A channel's memory stays its cache size however many partitions carry it.
    const cacheSize = Math.max(MIN_PARTITION_CACHE, Math.ceil(this.tuning.cacheSize / names.length));
    entry.streams = names.map((name) => {
      const stream = new ChannelStream(
        name,
        this.broker,
        this.tuning,
        (frame, pos) => {
          if (!allOrders) return this.handler(channel, frame, formatOffset(pos));
          // The partition's position moved: the frame leaves with the channel's composite offset.
          const offset = this.composite(entry.streams);
          this.handler(channel, withOffset(frame, offset), offset);
        },
        allOrders ? cacheSize : this.tuning.cacheSize,
      );
      this.streams.set(name, stream);
      return stream;
    });
    entry.ready = (async () => {
      await new Promise<void>((resolve, reject) => {
        this.batch.push({ channels: names, resolve, reject });
        this.scheduleFlush();
      });
      await Promise.all(entry.streams.map((s) => this.startStream(s)));
    })();
    entry.ready.catch(() => {
      if (this.entries.get(channel) === entry) this.close(channel, entry);
    });
    return entry;
  }

  /** Whether a subscribe begun at `started` may go on waiting: Redis connected, under 10 timeouts. */
  private mayWaitLonger(started: number): boolean {
    return this.broker.isConnected() && Date.now() - started < this.timeoutMs * CONNECTED_WAIT_FACTOR;
  }

  /**
   * Reads a stream's position; a read that fails while the broker stays connected (a command
   * timeout on a busy Redis or process) is tried again within the connected wait, rather than
   * failing the subscribe and having every client retry it.
   */
  private async startStream(stream: ChannelStream): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await stream.start();
      } catch (err) {
        if (stream.closed || !this.mayWaitLonger(started)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
      }
    }
  }

  private close(channel: string, entry: Entry): void {
    if (entry.closed) return;
    entry.closed = true;
    if (this.entries.get(channel) === entry) this.entries.delete(channel);
    for (const s of entry.streams) {
      s.closed = true;
      if (this.streams.get(s.name) === s) this.streams.delete(s.name);
    }
    // Unsubscribe once the subscription is in place (a failed one was rolled back already).
    void entry.ready.then(
      () => {
        for (const s of entry.streams) if (!this.streams.has(s.name)) this.unsubBatch.add(s.name);
        this.scheduleFlush();
      },
      () => undefined,
    );
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const unsubs = [...this.unsubBatch].filter((name) => !this.streams.has(name));
    this.unsubBatch.clear();
    if (unsubs.length > 0) void this.broker.unsubscribe(unsubs);
    const waiters = this.batch;
    this.batch = [];
    if (waiters.length === 0) return;
    const names = waiters.flatMap((w) => w.channels);
    this.broker.subscribe(names).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        // Roll back: whatever part of the batch did go through is dropped again.
        void this.broker.unsubscribe(names);
        for (const w of waiters) w.reject(err);
      },
    );
  }

  /** The composite offset of an all-orders channel's partition streams. */
  private composite(streams: readonly ChannelStream[]): string {
    return formatCompositeOffset({ digest: epochDigest(streams.map((s) => s.epoch)), seqs: streams.map((s) => s.last) });
  }

  /**
   * The frames a joining subscriber missed since `since` (an offset this feed handed out, or
   * {@link EMPTY_OFFSET}: everything in history; none without it), up to the last frame handed to
   * the handler. Call after {@link acquire} resolved, and attach the subscriber to the live flow in
   * the same synchronous continuation: no gap, no duplicate.
   */
  async catchUp(channel: string, since?: string): Promise<CatchUp> {
    const entry = this.entries.get(channel);
    if (!entry) throw new Error(`catchUp on ${channel}, which is not held`);
    await entry.ready;
    const here = (recovered: boolean, frames: string[]): CatchUp => ({ recovered, frames, offset: this.offset(channel) ?? EMPTY_OFFSET });
    if (since === undefined) return here(true, []);
    const from = this.sincePositions(channel, entry.streams, since);
    if (!from) return here(false, []);
    await Promise.all(entry.streams.map((s, i) => s.prepare(from[i] as StreamPosition)));
    // From here on synchronous: nothing can be delivered between the take and the caller's attach.
    if (entry.closed) return here(false, []);
    const takes: StreamTake[] = entry.streams.map((s, i) => s.take(from[i] as StreamPosition));
    if (takes.some((t) => !t.recovered)) return here(false, []);
    if (!isAllOrders(channel)) return here(true, (takes[0] as StreamTake).frames);
    // Merge the partitions' frames (each partition in order), each with the composite offset it
    // brings the subscriber to; after the last one the subscriber stands where the feed does.
    const digest = epochDigest(entry.streams.map((s) => s.epoch));
    const seqs = from.map((p) => p.seq);
    const frames: string[] = [];
    takes.forEach((t, i) => {
      for (const frame of t.frames) {
        seqs[i] = (seqs[i] as number) + 1;
        frames.push(withOffset(frame, formatCompositeOffset({ digest, seqs })));
      }
    });
    return here(true, frames);
  }

  /** Where each stream of a channel resumes from for `since`; undefined when it cannot (another epoch, malformed). */
  private sincePositions(channel: string, streams: readonly ChannelStream[], since: string): StreamPosition[] | undefined {
    if (since === EMPTY_OFFSET) return streams.map(() => ({ epoch: "", seq: 0 }));
    if (!isAllOrders(channel)) {
      const pos = parseOffset(since);
      return pos ? [pos] : undefined;
    }
    const c = parseCompositeOffset(since);
    if (!c || c.seqs.length !== streams.length || c.digest !== epochDigest(streams.map((s) => s.epoch))) return undefined;
    return streams.map((s, i) => ({ epoch: s.epoch, seq: c.seqs[i] as number }));
  }
}
