/** Verdict of {@link TokenBucket.take}. */
export type RateVerdict = "ok" | "limited" | "close";

/**
 * A per-socket token bucket for inbound frames: `perS` tokens a second up to `burst`. While empty,
 * frames are `limited` (answered with a `rate_limited` error); a client that keeps sending, about
 * twice the burst more frames without a pause, gets `close` (4008).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private overflow = 0;

  constructor(
    private readonly perS: number,
    private readonly burst: number,
    now: number = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token for a frame received at `now`. */
  take(now: number = Date.now()): RateVerdict {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perS) / 1000);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.overflow = 0;
      return "ok";
    }
    this.overflow++;
    return this.overflow > 2 * this.burst ? "close" : "limited";
  }

  /** Whether the frame just refused is the first of its streak (answer it; stay quiet after). */
  get firstRefusal(): boolean {
    return this.overflow === 1;
  }
}
