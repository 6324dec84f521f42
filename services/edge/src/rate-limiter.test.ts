import { describe, expect, it } from "vitest";
import { TokenBucket } from "./rate-limiter.js";

describe("TokenBucket", () => {
  it("allows a burst, then limits, then closes after about twice the burst more", () => {
    const b = new TokenBucket(10, 5, 0);
    const verdicts = Array.from({ length: 16 }, () => b.take(0));
    expect(verdicts.slice(0, 5)).toEqual(Array(5).fill("ok"));
    expect(verdicts.slice(5, 15)).toEqual(Array(10).fill("limited"));
    expect(verdicts[15]).toBe("close");
  });

  it("refills at the configured rate and forgives a client that paused", () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) b.take(0);
    expect(b.take(0)).toBe("limited");
    expect(b.firstRefusal).toBe(true);
    expect(b.take(0)).toBe("limited");
    expect(b.firstRefusal).toBe(false);
    expect(b.take(100)).toBe("ok"); // 100 ms at 10/s = 1 token
    expect(b.take(100)).toBe("limited");
    expect(b.firstRefusal).toBe(true);
  });
});
