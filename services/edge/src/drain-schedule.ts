/**
 * Closes `items` in evenly sized batches spread over `windowMs` (first batch after one step, last
 * at the end of the window), so clients of a draining node reconnect elsewhere without a
 * thundering herd. Resolves after the last batch; `cancel()` stops early.
 */
export function closeSpread<T>(
  items: readonly T[],
  windowMs: number,
  close: (item: T) => void,
  minStepMs = 50,
): { done: Promise<void>; cancel: () => void } {
  const n = items.length;
  if (n === 0 || windowMs <= 0) {
    for (const it of items) close(it);
    return { done: Promise.resolve(), cancel: () => undefined };
  }
  const batches = Math.max(1, Math.min(n, Math.floor(windowMs / minStepMs)));
  const step = windowMs / batches;
  const start = Date.now();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const run = (): void => {
    next++;
    const from = Math.floor(((next - 1) * n) / batches);
    const to = Math.floor((next * n) / batches);
    for (let i = from; i < to; i++) close(items[i] as T);
    if (next >= batches) {
      finish();
      return;
    }
    // Schedule against the start time, so timer drift does not stretch the window.
    timer = setTimeout(run, Math.max(0, start + (next + 1) * step - Date.now()));
  };
  timer = setTimeout(run, step);
  return {
    done,
    cancel: () => {
      clearTimeout(timer);
      finish();
    },
  };
}
