import { describe, expect, it } from "vitest";
import { CLOSE_CODES, CLOSE_CODE_TABLE, shouldReconnectAfter } from "./close-codes.js";

describe("close codes", () => {
  it("groups codes into reconnect / don't reconnect", () => {
    for (const c of Object.values(CLOSE_CODE_TABLE)) expect(shouldReconnectAfter(c.code), `${c.code}`).toBe(c.group === "reconnect");
    expect(shouldReconnectAfter(4001)).toBe(false);
    expect(shouldReconnectAfter(4005)).toBe(true);
  });

  it("does not reconnect after a normal closure and treats unknown codes as transient", () => {
    expect(shouldReconnectAfter(1000)).toBe(false);
    expect(shouldReconnectAfter(1005)).toBe(true);
    expect(shouldReconnectAfter(1012)).toBe(true);
  });

  it("names every code of the table once, with distinct numbers", () => {
    const codes = Object.values(CLOSE_CODE_TABLE).map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, spec] of Object.entries(CLOSE_CODE_TABLE)) expect(CLOSE_CODES[name as keyof typeof CLOSE_CODES]).toBe(spec.code);
    expect(CLOSE_CODES.normal).toBe(1000);
  });
});
