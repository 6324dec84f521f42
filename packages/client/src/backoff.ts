/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** Base delay (the cap of the first attempt's window), ms. */
  minDelayMs: number;
  /** Upper bound of any delay, ms. */
  maxDelayMs: number;
  /** Source of randomness in [0, 1); `Math.random` unless a test injects one. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog): attempt n waits a uniformly random
 * time in [0, min(maxDelayMs, minDelayMs * 2^n)], so a fleet of clients does not reconnect in step.
 */
export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    if (!(opts.minDelayMs >= 0) || !(opts.maxDelayMs >= opts.minDelayMs))
      throw new RangeError("backoff needs 0 <= minDelayMs <= maxDelayMs");
    this.random = opts.random ?? Math.random;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The upper bound of the window of attempt `n` (0-based). */
  ceiling(n: number): number {
    // 2^n overflows to Infinity for large n; Math.min keeps the cap.
    return Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** Math.min(n, 1024));
  }

  /** The delay before the next attempt, and counts the attempt. */
  next(): number {
    const ceiling = this.ceiling(this.attempt);
    this.attempt++;
    return Math.min(ceiling, Math.floor(this.random() * (ceiling + 1)));
  }

  /** Back to the first window (after a connection stayed up for the stable period). */
  reset(): void {
    this.attempt = 0;
  }
}
