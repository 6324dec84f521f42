import { describe, expect, it } from "vitest";
import { RateLimit, firstRefusal } from "./rate-limiter.js";

describe("RateLimit", () => {
  it("allows a burst, then limits, then closes after about twice the burst more", () => {
    const limit = new RateLimit(10, 5);
    const st = limit.fresh();
    const verdicts = Array.from({ length: 16 }, () => limit.take(st, 0));
    expect(verdicts.slice(0, 5)).toEqual(Array(5).fill("ok"));
    expect(verdicts.slice(5, 15)).toEqual(Array(10).fill("limited"));
    expect(verdicts[15]).toBe("close");
  });

  it("refills at the configured rate and forgives a client that paused", () => {
    const limit = new RateLimit(10, 5);
    const st = limit.fresh();
    for (let i = 0; i < 5; i++) limit.take(st, 0);
    expect(limit.take(st, 0)).toBe("limited");
    expect(firstRefusal(st)).toBe(true);
    expect(limit.take(st, 0)).toBe("limited");
    expect(firstRefusal(st)).toBe(false);
    expect(limit.take(st, 100)).toBe("ok"); // 100 ms at 10/s = 1 token
    expect(limit.take(st, 100)).toBe("limited");
    expect(firstRefusal(st)).toBe(true);
  });

  it("starts full however long the socket waited before its first frame, and never refills past the burst", () => {
    const limit = new RateLimit(10, 3);
    const st = limit.fresh();
    const t = Date.now() + 3_600_000;
    expect([limit.take(st, t), limit.take(st, t), limit.take(st, t), limit.take(st, t)]).toEqual(["ok", "ok", "ok", "limited"]);
    expect([limit.take(st, t + 60_000), limit.take(st, t + 60_000), limit.take(st, t + 60_000), limit.take(st, t + 60_000)]).toEqual([
      "ok",
      "ok",
      "ok",
      "limited",
    ]);
  });

  it("gains nothing from a clock that steps back", () => {
    const limit = new RateLimit(10, 2);
    const st = limit.fresh();
    limit.take(st, 1000);
    limit.take(st, 1000);
    expect(limit.take(st, 500)).toBe("limited");
    expect(limit.take(st, 600)).toBe("ok"); // 100 ms after the step back
  });

  it("handles fractional rates", () => {
    const limit = new RateLimit(0.5, 1);
    const st = limit.fresh();
    expect(limit.take(st, 0)).toBe("ok");
    expect(limit.take(st, 1999)).toBe("limited");
    expect(limit.take(st, 2000)).toBe("ok");
  });
});
