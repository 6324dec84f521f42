/** One broker channel as a gap-free, duplicate-free sequence with a cache of recent frames. */
import { type StreamPosition, parseOffset } from "@orderstream/wire";
import type { Broker } from "./broker.js";
import { FrameCache } from "./frame-cache.js";

/** Tuning shared by every {@link ChannelStream} of a feed. */
export interface StreamTuning {
  /** Recent frames kept in memory per channel (split over its partitions), to serve resumes without the broker. */
  cacheSize: number;
  /** Most events one resume or gap repair reads from history. */
  maxRecover: number;
  /** How long a resume waits for live delivery to reach an offset a client already has. */
  aheadWaitMs: number;
  /** Counts history reads (resume backfills and gap repairs). */
  countRead: () => void;
  /** Reports background failures (gap repair retries). */
  onError?: ((err: unknown, context: { channel: string; op: string }) => void) | undefined;
}

/** A catch-up read from one stream's cache. */
export interface StreamTake {
  recovered: boolean;
  /** The frames after the asked position up to the last one delivered, oldest first. */
  frames: string[];
}

/**
 * One broker channel as a gap-free, duplicate-free sequence: frames ordered by sequence, holes (a
 * dropped subscription, a lost message) repaired from history, a new epoch (lost history) followed
 * from its first event, and a bounded cache of recent frames so resumes are served from memory with
 * one history read in flight at a time. Owned by {@link ChannelFeed}, which subscribes it.
 */
export class ChannelStream {
  /** Epoch of the last delivered frame ("" until known). */
  epoch = "";
  /** Sequence of the last delivered frame. */
  last = 0;
  closed = false;
  private started = false;
  private repairing = true;
  /**
   * Frames that arrived ahead of `last + 1`, by sequence, waiting for the gap to be read. Made on
   * demand, like `advanced`: an edge holds a stream per user channel, nearly all with neither.
   */
  private ahead: Map<number, string> | undefined;
  private readonly cache: FrameCache;
  private backfilling: Promise<void> | undefined;
  private advanced: Set<() => void> | undefined;

  constructor(
    readonly name: string,
    private readonly broker: Broker,
    private readonly tuning: StreamTuning,
    private readonly deliver: (frame: string, pos: StreamPosition) => void,
    /** This stream's share of the channel's cache (a partition's, for an all-orders channel). */
    cacheSize = tuning.cacheSize,
  ) {
    this.cache = new FrameCache(cacheSize);
  }

  /** Reads the stream's position (call once its subscription is in place); then frames flow. */
  async start(): Promise<void> {
    const top = await this.broker.position(this.name);
    this.epoch = top.epoch;
    this.last = top.seq;
    this.started = true;
    this.repairing = false;
    this.drainAhead();
  }

  /** The position of the last delivered frame. */
  position(): StreamPosition {
    return { epoch: this.epoch, seq: this.last };
  }

  /** A live frame from the broker. */
  onFrame(frame: string): void {
    const pos = offsetOf(frame);
    if (!pos || this.closed) return;
    if (pos.epoch !== this.epoch) {
      if (this.repairing && this.epoch === "") {
        (this.ahead ??= new Map()).set(pos.seq, frame);
        return;
      }
      // A new epoch: the broker lost this stream's history, and the new epoch's history starts at
      // seq 1. Start over from there: frames before this one are read from history, not skipped.
      this.restart(pos.epoch);
    }
    if (pos.seq <= this.last) return;
    if (pos.seq === this.last + 1 && !this.repairing) {
      this.push(frame, pos);
      this.drainAhead();
      return;
    }
    (this.ahead ??= new Map()).set(pos.seq, frame);
    if (!this.repairing) void this.repair();
  }

  private restart(epoch: string): void {
    this.epoch = epoch;
    this.last = 0;
    this.ahead = undefined;
    this.cache.clear();
  }

  private push(frame: string, pos: StreamPosition): void {
    this.last = pos.seq;
    this.cache.push(pos.seq, frame);
    this.deliver(frame, pos);
    if (this.advanced) for (const w of this.advanced) w();
  }

  private drainAhead(): void {
    const ahead = this.ahead;
    if (!ahead) return;
    for (const seq of [...ahead.keys()].sort((a, b) => a - b)) {
      const frame = ahead.get(seq) as string;
      if (seq <= this.last) ahead.delete(seq);
      else if (seq === this.last + 1) {
        ahead.delete(seq);
        this.push(frame, { epoch: this.epoch, seq });
      } else break;
    }
    if (ahead.size === 0) {
      if (this.ahead === ahead) this.ahead = undefined;
    } else if (!this.repairing) void this.repair();
  }

  /** Reads what the stream missed from history and delivers it; retried until the broker answers. */
  async repair(): Promise<void> {
    // Before start() the position is read after the subscription is in place: nothing to repair.
    if (!this.started || this.repairing) return;
    this.repairing = true;
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          this.tuning.countRead();
          const asked = this.position();
          const read = await this.broker.readSince(this.name, asked, this.tuning.maxRecover);
          // A frame of a new epoch arrived during the read and moved the position: read again.
          if (this.epoch !== asked.epoch) continue;
          if (read.recovered) {
            for (const frame of read.frames) {
              const pos = offsetOf(frame);
              if (pos && pos.seq === this.last + 1) this.push(frame, pos);
            }
          } else if (read.top.epoch !== "" && read.top.epoch !== asked.epoch) {
            // The history was lost (new epoch), or the stream had none: read the new epoch from
            // its start instead of skipping to its end.
            this.restart(read.top.epoch);
            continue;
          } else if (read.top.epoch !== "") {
            // History no longer covers the hole (trimmed): jump to the present.
            this.tuning.onError?.(new Error(`history gap on ${this.name} not recoverable`), { channel: this.name, op: "repair" });
            this.last = Math.min(read.top.seq, ...[...(this.ahead?.keys() ?? [])].map((s) => s - 1));
          }
          this.repairing = false;
          this.drainAhead();
          return;
        } catch (err) {
          this.tuning.onError?.(err, { channel: this.name, op: "repair" });
          await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
        }
      }
    } finally {
      this.repairing = false;
    }
  }

  /** `since` with epoch "" (a stream that had no history when the client looked) = its current epoch from the start. */
  private resolve(since: StreamPosition): StreamPosition {
    return since.epoch === "" ? { epoch: this.epoch, seq: 0 } : since;
  }

  /**
   * Makes {@link take} able to answer for `since`: waits (bounded) for live delivery to reach an
   * offset a client already has, and reads older frames into the cache (single flight).
   */
  async prepare(raw: StreamPosition): Promise<void> {
    const since = this.resolve(raw);
    if (since.epoch !== this.epoch) return;
    if (since.seq > this.last) await this.waitAdvance(since.seq);
    if (since.seq >= this.last || this.cache.covers(since.seq + 1)) return;
    while (this.backfilling) {
      await this.backfilling.catch(() => undefined);
      if (this.cache.covers(since.seq + 1)) return;
    }
    const run = this.backfill(since);
    this.backfilling = run;
    try {
      await run;
    } finally {
      this.backfilling = undefined;
    }
  }

  /** The frames after `since` up to the last delivered one, from the cache; synchronous. */
  take(raw: StreamPosition): StreamTake {
    const since = this.resolve(raw);
    if (since.epoch !== this.epoch || since.seq > this.last) return { recovered: false, frames: [] };
    if (since.seq === this.last) return { recovered: true, frames: [] };
    if (!this.cache.covers(since.seq + 1)) return { recovered: false, frames: [] };
    return { recovered: true, frames: this.cache.after(since.seq, this.last) };
  }

  private waitAdvance(seq: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.advanced?.delete(check);
        if (this.advanced?.size === 0) this.advanced = undefined;
        resolve();
      };
      const check = (): void => {
        if (this.last >= seq) done();
      };
      const timer = setTimeout(done, this.tuning.aheadWaitMs);
      (this.advanced ??= new Set()).add(check);
    });
  }

  private async backfill(since: StreamPosition): Promise<void> {
    this.tuning.countRead();
    const read = await this.broker.readSince(this.name, since, this.tuning.maxRecover);
    if (!read.recovered || read.top.epoch !== this.epoch) return;
    const older: [number, string][] = [];
    for (const frame of read.frames) {
      const pos = offsetOf(frame);
      if (pos && pos.seq <= this.last) older.push([pos.seq, frame]);
    }
    this.cache.prepend(older);
  }
}

/** The `offset` field of a frame, read without parsing the whole frame. */
export function frameOffset(frame: string): string | undefined {
  const i = frame.indexOf('"offset":"');
  if (i < 0) return undefined;
  const start = i + 10;
  return frame.slice(start, frame.indexOf('"', start));
}

/** The position carried in a frame's `offset` field. */
export function offsetOf(frame: string): StreamPosition | undefined {
  return parseOffset(frameOffset(frame));
}

/** The frame with its `offset` field replaced (a partition stream's frame, given its channel's composite offset). */
export function withOffset(frame: string, offset: string): string {
  const i = frame.indexOf('"offset":"');
  if (i < 0) return frame;
  const start = i + 10;
  return frame.slice(0, start) + offset + frame.slice(frame.indexOf('"', start));
}
