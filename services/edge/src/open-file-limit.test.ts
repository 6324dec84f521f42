import { describe, expect, it } from "vitest";
import { RESERVED_DESCRIPTORS, effectiveMaxConnections, openFileLimit } from "./open-file-limit.js";

const limits = (n: string) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            ${n}                ${n}                files
`;

describe("open-file limit", () => {
  it("reads the soft limit from /proc/self/limits text", () => {
    expect(openFileLimit(limits("20000"))).toBe(20_000);
    expect(openFileLimit(limits("unlimited"))).toBeUndefined();
    expect(openFileLimit("garbage")).toBeUndefined();
  });

  it("caps MAX_CONNECTIONS below the limit, leaving room for the node's own descriptors", () => {
    expect(effectiveMaxConnections(100_000, 20_000)).toBe(20_000 - RESERVED_DESCRIPTORS);
    expect(effectiveMaxConnections(5_000, 20_000)).toBe(5_000);
    expect(effectiveMaxConnections(5_000, undefined)).toBe(5_000);
  });

  it("reads this process's real limit", () => {
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});
