import { describe, expect, it } from "vitest";
import {
  EMPTY_OFFSET,
  OFFSET_PATTERN,
  OFFSET_PATTERN_SOURCE,
  epochDigest,
  formatCompositeOffset,
  formatOffset,
  isAfter,
  isResumeOffset,
  offsetHead,
  parseCompositeOffset,
  parseOffset,
} from "./offsets.js";

describe("offsets", () => {
  it("round-trips a single stream's offset and rejects malformed ones", () => {
    expect(parseOffset(formatOffset({ epoch: "abc123", seq: 42 }))).toEqual({ epoch: "abc123", seq: 42 });
    for (const bad of ["", "abc", "abc:", ":1", "a-b:1", "abc:-1", "abc:1.5", 7, null]) expect(parseOffset(bad)).toBeUndefined();
  });

  it("round-trips a composite offset whose head counts the events it covers", () => {
    const digest = epochDigest(Array.from({ length: 12 }, (_, i) => `epoch${i}`));
    const composite = formatCompositeOffset({ digest, seqs: [3, 0, 7, 1, 0, 0, 0, 2, 0, 0, 0, 9] });
    expect(parseCompositeOffset(composite)).toEqual({ digest, seqs: [3, 0, 7, 1, 0, 0, 0, 2, 0, 0, 0, 9] });
    expect(offsetHead(composite)).toEqual({ epoch: digest, seq: 22 });
    expect(parseCompositeOffset(`${digest}:23~3.0.7.1.0.0.0.2.0.0.0.9`)).toBeUndefined(); // sum does not match
    const max = formatCompositeOffset({ digest, seqs: Array.from({ length: 256 }, () => 999_999_999_999) });
    expect(max).toMatch(OFFSET_PATTERN);
    expect(new RegExp(OFFSET_PATTERN_SOURCE).test(max)).toBe(true);
  });

  it("reads the head of any offset the server sends, and accepts only those (and :0) as since", () => {
    expect(offsetHead("ab12:42")).toEqual({ epoch: "ab12", seq: 42 });
    for (const bad of ["", "42", "a:b", ":1", "a:", "a:-1", "a b:1", 7, undefined, EMPTY_OFFSET]) expect(offsetHead(bad)).toBeUndefined();
    expect(isResumeOffset(EMPTY_OFFSET)).toBe(true);
    expect(isResumeOffset("ab:3~1.2")).toBe(true);
    expect(isResumeOffset("nope")).toBe(false);
    expect(isResumeOffset(`a:1~${"1.".repeat(3000)}1`)).toBe(false);
  });

  it("orders positions the way a client drops duplicates: a higher seq, or another epoch", () => {
    expect(isAfter(undefined, { epoch: "e", seq: 1 })).toBe(true);
    expect(isAfter({ epoch: "e", seq: 9 }, { epoch: "e", seq: 10 })).toBe(true);
    expect(isAfter({ epoch: "e", seq: 10 }, { epoch: "e", seq: 10 })).toBe(false);
    expect(isAfter({ epoch: "e", seq: 10 }, { epoch: "e", seq: 2 })).toBe(false);
    expect(isAfter({ epoch: "old", seq: 100 }, { epoch: "new", seq: 1 })).toBe(true);
  });
});
