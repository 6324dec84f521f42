import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { closeSpread } from "./drain-schedule.js";

// On fake timers (Date.now included): the schedule is checked exactly, whatever the machine's load.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("closeSpread", () => {
  it("closes everything in even batches spread over the window, none at once", async () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const at: number[] = [];
    const start = Date.now();
    let finished = false;
    const plan = closeSpread(items, 400, () => at.push(Date.now() - start), 50);
    void plan.done.then(() => {
      finished = true;
    });
    await vi.advanceTimersByTimeAsync(49);
    expect(at).toEqual([]);
    await vi.advanceTimersByTimeAsync(400 - 49);
    expect(finished).toBe(true);
    expect(at).toHaveLength(100);
    const perBatch = new Map<number, number>();
    for (const t of at) perBatch.set(t, (perBatch.get(t) ?? 0) + 1);
    expect([...perBatch.keys()]).toEqual([50, 100, 150, 200, 250, 300, 350, 400]);
    for (const count of perBatch.values()) expect([12, 13]).toContain(count);
  });

  it("closes at once with a zero window, and cancel() resolves early", async () => {
    const closed: number[] = [];
    await closeSpread([1, 2, 3], 0, (i) => closed.push(i)).done;
    expect(closed).toEqual([1, 2, 3]);
    const later: number[] = [];
    const plan = closeSpread([1, 2, 3, 4], 10_000, (i) => later.push(i));
    plan.cancel();
    await plan.done;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(later).toEqual([]);
  });
});
