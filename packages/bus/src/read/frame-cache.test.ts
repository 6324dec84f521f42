import { describe, expect, it } from "vitest";
import { FrameCache } from "./frame-cache.js";

describe("FrameCache", () => {
  it("keeps the newest frames up to its capacity", () => {
    const c = new FrameCache(3);
    for (let s = 1; s <= 5; s++) c.push(s, `f${s}`);
    expect(c.covers(2)).toBe(false);
    expect(c.covers(3)).toBe(true);
    expect(c.after(2, 5)).toEqual(["f3", "f4", "f5"]);
    expect(c.after(4, 5)).toEqual(["f5"]);
  });

  it("restarts on a non-consecutive sequence", () => {
    const c = new FrameCache(10);
    c.push(1, "a");
    c.push(5, "e");
    expect(c.covers(1)).toBe(false);
    expect(c.after(4, 5)).toEqual(["e"]);
  });

  it("prepends older consecutive frames up to twice its capacity", () => {
    const c = new FrameCache(2);
    c.push(10, "j");
    c.push(11, "k");
    c.prepend([
      [7, "g"],
      [8, "h"],
      [9, "i"],
    ]);
    expect(c.after(7, 11)).toEqual(["h", "i", "j", "k"]);
    expect(c.covers(8)).toBe(true);
    expect(c.covers(7)).toBe(false);
  });

  it("ignores a prepend that does not touch its first frame", () => {
    const c = new FrameCache(5);
    c.push(10, "j");
    c.prepend([
      [7, "g"],
      [8, "h"],
    ]);
    expect(c.covers(9)).toBe(false);
    expect(c.after(9, 10)).toEqual(["j"]);
  });
});
