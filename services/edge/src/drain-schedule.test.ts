import { describe, expect, it } from "vitest";
import { closeSpread } from "./drain-schedule.js";

describe("closeSpread", () => {
  it("closes everything in batches spread over the window, none at once", async () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const at: number[] = [];
    const start = Date.now();
    await closeSpread(items, 400, () => at.push(Date.now() - start), 50).done;
    expect(at).toHaveLength(100);
    const batches = new Set(at.map((t) => Math.round(t / 50)));
    expect(batches.size).toBeGreaterThanOrEqual(6);
    expect(Math.min(...at)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(250);
  });

  it("closes at once with a zero window, and cancel() resolves early", async () => {
    const closed: number[] = [];
    await closeSpread([1, 2, 3], 0, (i) => closed.push(i)).done;
    expect(closed).toEqual([1, 2, 3]);
    const later: number[] = [];
    const plan = closeSpread([1, 2, 3, 4], 10_000, (i) => later.push(i));
    plan.cancel();
    await plan.done;
    expect(later).toEqual([]);
  });
});
