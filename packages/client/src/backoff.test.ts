import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

/** A deterministic sequence of "random" numbers in [0, 1). */
function seq(...xs: number[]): () => number {
  let i = 0;
  return () => xs[i++ % xs.length] as number;
}

describe("Backoff (full jitter)", () => {
  it("draws every delay from [0, min(cap, base * 2^n)]", () => {
    const b = new Backoff({ minDelayMs: 100, maxDelayMs: 5_000 });
    const ceilings = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];
    for (let round = 0; round < 200; round++) {
      b.reset();
      for (const c of ceilings) {
        const d = b.next();
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(c);
      }
    }
  });

  it("spans the whole window: random 0 gives 0, random near 1 gives the ceiling", () => {
    const low = new Backoff({ minDelayMs: 100, maxDelayMs: 1_000, random: () => 0 });
    expect([low.next(), low.next(), low.next()]).toEqual([0, 0, 0]);
    const high = new Backoff({ minDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999999 });
    expect([high.next(), high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("is not the same for every client: jitter spreads the delays of one attempt", () => {
    const delays = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const b = new Backoff({ minDelayMs: 1000, maxDelayMs: 30_000 });
      b.next();
      b.next();
      delays.add(b.next()); // window [0, 4000]
    }
    expect(delays.size).toBeGreaterThan(10);
  });

  it("stays capped for very large attempt counts (no overflow)", () => {
    const b = new Backoff({ minDelayMs: 500, maxDelayMs: 20_000, random: () => 0.999999 });
    for (let i = 0; i < 2_000; i++) b.next();
    expect(b.next()).toBe(20_000);
    expect(b.ceiling(5_000)).toBe(20_000);
  });

  it("reset() starts again from the first window", () => {
    const b = new Backoff({ minDelayMs: 100, maxDelayMs: 10_000, random: seq(0.999999) });
    for (let i = 0; i < 6; i++) b.next();
    expect(b.attempts).toBe(6);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });

  it("refuses a cap below the base", () => {
    expect(() => new Backoff({ minDelayMs: 100, maxDelayMs: 50 })).toThrow(RangeError);
  });
});
