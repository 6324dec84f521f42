import { describe, expect, it } from "vitest";
import { refreshDelayMs } from "./token-refresh-schedule.js";

describe("refreshDelayMs", () => {
  it("is the margin before exp, at most half the remaining life, never negative", () => {
    const now = 1_000_000_000;
    expect(refreshDelayMs(now / 1000 + 3600, now, 30_000)).toBe(3_570_000);
    expect(refreshDelayMs(now / 1000 + 20, now, 30_000)).toBe(10_000);
    expect(refreshDelayMs(now / 1000 - 5, now, 30_000)).toBe(0);
  });
});
