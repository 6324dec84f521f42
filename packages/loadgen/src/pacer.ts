/** Bounds shared by the request loops. */
export interface PaceBounds {
  /** Stop issuing when this aborts (duration over, or the caller's signal). */
  signal: AbortSignal;
  /** Upper bound on calls issued; 0 = none. */
  maxCount: number;
}

const PACE_TICK_MS = 5;

/**
 * Open loop: calls `fire(n)` at `rate` per second regardless of replies (no coordinated
 * omission), with at most `maxInflight` outstanding; calls that would exceed it are reported
 * to `onSkip` instead. Resolves when issuing stopped and every call settled.
 */
export async function openLoop(
  rate: number,
  bounds: PaceBounds,
  maxInflight: number,
  fire: (n: number) => Promise<void>,
  onSkip: () => void,
): Promise<number> {
  const inflight = new Set<Promise<void>>();
  let issued = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const step = (): void => {
      if (bounds.signal.aborted || (bounds.maxCount > 0 && issued >= bounds.maxCount)) {
        clearInterval(timer);
        resolve();
        return;
      }
      let due = Math.floor(((performance.now() - t0) / 1000) * rate) + 1 - issued;
      if (bounds.maxCount > 0) due = Math.min(due, bounds.maxCount - issued);
      for (; due > 0; due--) {
        const n = issued++;
        if (inflight.size >= maxInflight) {
          onSkip();
          continue;
        }
        const p = fire(n).finally(() => inflight.delete(p));
        inflight.add(p);
      }
    };
    const timer = setInterval(step, PACE_TICK_MS);
    step();
  });
  await Promise.allSettled([...inflight]);
  return issued;
}

/** Closed loop: `concurrency` callers each issue the next call when the previous settles. */
export async function closedLoop(concurrency: number, bounds: PaceBounds, fire: (n: number) => Promise<void>): Promise<number> {
  let issued = 0;
  const lane = async (): Promise<void> => {
    while (!bounds.signal.aborted && (bounds.maxCount === 0 || issued < bounds.maxCount)) {
      await fire(issued++);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return issued;
}
