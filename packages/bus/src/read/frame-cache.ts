/**
 * A channel's recent frames by consecutive sequence number, bounded in count. Backfilled from
 * history (prepend) to serve many resumes of the same channel with one Redis read.
 */
export class FrameCache {
  private frames: string[] = [];
  private firstSeq = 0;

  constructor(private readonly capacity: number) {}

  /** Appends the frame with sequence `seq`; a non-consecutive seq restarts the cache there. */
  push(seq: number, frame: string): void {
    if (this.frames.length === 0 || seq !== this.firstSeq + this.frames.length) {
      this.frames = [];
      this.firstSeq = seq;
    }
    this.frames.push(frame);
    if (this.frames.length > this.capacity) {
      const drop = this.frames.length - this.capacity;
      this.frames.splice(0, drop);
      this.firstSeq += drop;
    }
  }

  /**
   * Puts older consecutive frames (ascending `[seq, frame]` pairs ending right before the cache)
   * in front, keeping up to twice the capacity so a storm of resumes at older offsets is served.
   */
  prepend(older: readonly [number, string][]): void {
    const fitting = older.filter(([seq]) => this.frames.length === 0 || seq < this.firstSeq);
    if (fitting.length === 0) return;
    const last = fitting[fitting.length - 1] as [number, string];
    if (this.frames.length > 0 && last[0] !== this.firstSeq - 1) return;
    const room = Math.max(0, 2 * this.capacity - this.frames.length);
    const taken = fitting.slice(Math.max(0, fitting.length - room));
    if (taken.length === 0) return;
    this.frames = [...taken.map(([, f]) => f), ...this.frames];
    this.firstSeq = (taken[0] as [number, string])[0];
  }

  /** Whether the cache holds the frame with sequence `seq` (or seq is just past its end). */
  covers(seq: number): boolean {
    return this.frames.length > 0 && seq >= this.firstSeq && seq <= this.firstSeq + this.frames.length;
  }

  /** Frames with sequence in (after, upTo]. */
  after(after: number, upTo: number): string[] {
    const from = Math.max(0, after + 1 - this.firstSeq);
    const to = Math.max(0, upTo + 1 - this.firstSeq);
    return this.frames.slice(from, to);
  }

  /** Forgets everything (a new epoch). */
  clear(): void {
    this.frames = [];
    this.firstSeq = 0;
  }
}
