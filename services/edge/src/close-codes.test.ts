import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLOSE_CODES, shouldReconnect } from "./close-codes.js";

describe("close codes", () => {
  it("groups codes into reconnect / don't reconnect", () => {
    expect(shouldReconnect(1001)).toBe(true);
    expect(shouldReconnect(4004)).toBe(true);
    expect(shouldReconnect(4001)).toBe(false);
    expect(shouldReconnect(4008)).toBe(false);
    expect(shouldReconnect(1000)).toBe(false);
  });

  it("CLOSE_CODES.md lists exactly the codes of close-codes.ts, in the same groups", () => {
    const md = readFileSync(new URL("../CLOSE_CODES.md", import.meta.url), "utf8");
    const rows = [...md.matchAll(/^\| (\d{4}) \| [^|]+ \| (reconnect|don't reconnect) \|/gm)].map((m) => [Number(m[1]), m[2]]);
    const expected = [
      ...Object.values(CLOSE_CODES.reconnect).map((c) => [c.code, "reconnect"]),
      ...Object.values(CLOSE_CODES.noReconnect).map((c) => [c.code, "don't reconnect"]),
    ];
    expect(rows.sort()).toEqual(expected.sort());
  });
});
