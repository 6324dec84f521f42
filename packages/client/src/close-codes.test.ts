import { describe, expect, it } from "vitest";
import { CLOSE_CODES as EDGE_CODES } from "../../../services/edge/src/close-codes.js";
import { shouldReconnect } from "./close-codes.js";

describe("close-code policy", () => {
  it("agrees with the edge's table (services/edge/src/close-codes.ts): reconnect vs don't", () => {
    for (const c of Object.values(EDGE_CODES.reconnect)) expect(shouldReconnect(c.code), `${c.code} ${c.reason}`).toBe(true);
    for (const c of Object.values(EDGE_CODES.noReconnect)) expect(shouldReconnect(c.code), `${c.code} ${c.reason}`).toBe(false);
  });

  it("does not reconnect after a normal closure and treats unknown codes as transient", () => {
    expect(shouldReconnect(1000)).toBe(false);
    expect(shouldReconnect(1005)).toBe(true);
    expect(shouldReconnect(1012)).toBe(true);
  });
});
