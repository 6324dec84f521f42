import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

/** Event-loop delay of this process over one interval, in ms: a saturated client skews latencies. */
export interface LoopLag {
  p99Ms: number;
  maxMs: number;
}

/** Samples this process's event-loop delay; `take()` returns the interval's figures and resets. */
export class LoopLagMonitor {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.h.enable();
  }

  take(): LoopLag {
    const lag = this.h.count > 0 ? { p99Ms: this.h.percentile(99) / 1e6, maxMs: this.h.max / 1e6 } : { p99Ms: 0, maxMs: 0 };
    this.h.reset();
    return { p99Ms: Math.round(lag.p99Ms * 10) / 10, maxMs: Math.round(lag.maxMs * 10) / 10 };
  }

  stop(): void {
    this.h.disable();
  }
}
