import { describe, expect, it } from "vitest";
import { refreshDelayMs, tokenExp } from "./token-refresh-schedule.js";

const jwt = (claims: unknown): string => `${btoa('{"alg":"HS256"}')}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

describe("tokenExp", () => {
  it("reads a JWT's numeric exp without verifying it, and nothing from anything else", () => {
    expect(tokenExp(jwt({ sub: "a", exp: 1_700_000_000, name: "é?>" }))).toBe(1_700_000_000);
    expect(tokenExp(jwt({ sub: "a" }))).toBeUndefined();
    expect(tokenExp(jwt({ exp: "1700000000" }))).toBeUndefined();
    for (const t of [undefined, "", "opaque-token", "a.b", "a.!!.c", "a..c"]) expect(tokenExp(t)).toBeUndefined();
  });
});

describe("refreshDelayMs", () => {
  it("is the margin before exp, at most half the remaining life, never negative", () => {
    const now = 1_000_000_000;
    expect(refreshDelayMs(now / 1000 + 3600, now, 30_000)).toBe(3_570_000);
    expect(refreshDelayMs(now / 1000 + 20, now, 30_000)).toBe(10_000);
    expect(refreshDelayMs(now / 1000 - 5, now, 30_000)).toBe(0);
  });
});
