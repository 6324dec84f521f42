import { describe, expect, it } from "vitest";
import { OffsetTracker } from "./offset-tracker.js";

const since = (t: OffsetTracker, chs: string[]) => Object.fromEntries(chs.flatMap((c) => (t.offset(c) ? [[c, t.offset(c)]] : [])));

describe("OffsetTracker", () => {
  it("accepts increasing offsets and drops duplicates and older ones of the same epoch", () => {
    const t = new OffsetTracker();
    expect(t.accept("orders.created", "e1:1")).toBe(true);
    expect(t.accept("orders.created", "e1:2")).toBe(true);
    expect(t.accept("orders.created", "e1:2")).toBe(false);
    expect(t.accept("orders.created", "e1:1")).toBe(false);
    expect(t.accept("orders.created", "e1:5")).toBe(true); // gaps are not duplicates
    expect(t.offset("orders.created")).toBe("e1:5");
  });

  it("compares seq as numbers, not strings", () => {
    const t = new OffsetTracker();
    expect(t.accept("c", "e:9")).toBe(true);
    expect(t.accept("c", "e:10")).toBe(true);
    expect(t.accept("c", "e:9")).toBe(false);
  });

  it("keeps channels apart", () => {
    const t = new OffsetTracker();
    expect(t.accept("a", "e:3")).toBe(true);
    expect(t.accept("b", "e:1")).toBe(true);
    expect(since(t, ["a", "b", "c"])).toEqual({ a: "e:3", b: "e:1" });
  });

  it("a new epoch (history lost) replaces the position, even with a lower seq", () => {
    const t = new OffsetTracker();
    t.accept("a", "old:100");
    expect(t.accept("a", "new:1")).toBe(true);
    expect(t.offset("a")).toBe("new:1");
    expect(t.accept("a", "new:1")).toBe(false);
  });

  it("advanceTo takes the later position of the same epoch (catch-up frames come before the reply)", () => {
    const t = new OffsetTracker();
    t.accept("a", "e:7");
    t.advanceTo("a", "e:5");
    expect(t.offset("a")).toBe("e:7");
    t.advanceTo("a", "e:9");
    expect(t.offset("a")).toBe("e:9");
    expect(t.accept("a", "e:9")).toBe(false);
    expect(t.accept("a", "e:10")).toBe(true);
    t.advanceTo("a", "other:2");
    expect(t.offset("a")).toBe("other:2");
  });

  it("delivers offsets it cannot parse but never resumes from them", () => {
    const t = new OffsetTracker();
    expect(t.accept("a", "opaque")).toBe(true);
    expect(t.accept("a", "opaque")).toBe(true);
    expect(since(t, ["a"])).toEqual({});
  });

  it("forget() makes a later subscribe start live", () => {
    const t = new OffsetTracker();
    t.accept("a", "e:4");
    t.forget("a");
    expect(since(t, ["a"])).toEqual({});
    expect(t.accept("a", "e:1")).toBe(true);
  });
});

describe("OffsetTracker on a channel that had no history", () => {
  it("keeps the edge's `:0` position so a reconnect resumes from the channel's first event", () => {
    const t = new OffsetTracker();
    t.advanceTo("orders.user.new", ":0");
    expect(since(t, ["orders.user.new"])).toEqual({ "orders.user.new": ":0" });
    expect(t.accept("orders.user.new", "e1:1")).toBe(true);
    expect(t.offset("orders.user.new")).toBe("e1:1");
  });
});
