/** Timers owned by one client, so closing it cancels every pending reconnect, retry and timeout at once. */
export class TimerSet {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  /** Runs `fn` once after `ms`. */
  after(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** Cancels one timer. */
  cancel(t: ReturnType<typeof setTimeout>): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Cancels every timer. */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
