/** Verdict of {@link RateLimit.take}. */
export type RateVerdict = "ok" | "limited" | "close";

/**
 * The token-bucket fields a socket carries on its own state (no object per socket). Kept as small
 * integers where the configuration allows: tokens in thousandths, time in ms since this module
 * loaded.
 */
export interface RateState {
  /** Tokens left, in thousandths of a token. */
  rateMilliTokens: number;
  /** When the last frame was taken, in ms since {@link RATE_EPOCH_MS}. */
  rateAt: number;
  /** Frames refused in a row. */
  rateOverflow: number;
}

/** The zero of {@link RateState.rateAt}, so times fit in a small integer for weeks. */
const RATE_EPOCH_MS = Date.now();
const MILLI = 1000;

/**
 * A token bucket for inbound frames: `perS` tokens a second up to `burst`, kept in each socket's
 * {@link RateState}. While empty, frames are `limited` (answered with a `rate_limited` error); a
 * client that keeps sending, about twice the burst more frames without a pause, gets `close` (4008).
 */
export class RateLimit {
  private readonly burstMilli: number;

  constructor(
    private readonly perS: number,
    private readonly burst: number,
  ) {
    this.burstMilli = burst * MILLI;
  }

  /** Tokens of a fresh socket (a full bucket), in thousandths. */
  get fullMilliTokens(): number {
    return this.burstMilli;
  }

  /**
   * The fields of a full bucket. Its time can be any past instant: a full bucket stays full
   * however long it waits, so no clock read is needed per socket.
   */
  fresh(): RateState {
    return { rateMilliTokens: this.burstMilli, rateAt: 0, rateOverflow: 0 };
  }

  /** Takes one token from `st` for a frame received at `now` (epoch ms, whole: Date.now()). */
  take(st: RateState, now: number = Date.now()): RateVerdict {
    // Math.floor keeps the value a V8 small integer (a plain difference of two doubles is a boxed
    // number, and one boxed store makes the field a box on every socket).
    const at = Math.floor(now - RATE_EPOCH_MS);
    const elapsed = Math.max(0, at - st.rateAt);
    st.rateAt = at;
    // elapsed ms * perS tokens/s = elapsed * perS thousandths of a token.
    st.rateMilliTokens = Math.min(this.burstMilli, st.rateMilliTokens + elapsed * this.perS);
    if (st.rateMilliTokens >= MILLI) {
      st.rateMilliTokens -= MILLI;
      st.rateOverflow = 0;
      return "ok";
    }
    st.rateOverflow++;
    return st.rateOverflow > 2 * this.burst ? "close" : "limited";
  }
}

/** Whether the frame `st` just refused is the first of its streak (answer it; stay quiet after). */
export function firstRefusal(st: RateState): boolean {
  return st.rateOverflow === 1;
}
