import calculateSlot from "cluster-key-slot";
import { describe, expect, it } from "vitest";
import { CLUSTER_SLOTS, DEFAULT_PARTITIONS, Partitioning, parsePartitionSet } from "./partitions.js";

describe("Partitioning", () => {
  it("puts partition p's tag in the p-th equal share of the slot space, for any count", () => {
    for (const count of [1, 2, 3, 12, 24, 256]) {
      const parts = new Partitioning(count);
      for (const p of parts.all()) expect(Math.floor((calculateSlot(parts.tag(p)) * count) / CLUSTER_SLOTS)).toBe(p);
    }
  });

  it("spreads 12 partitions 4/4/4 over 3 masters with equal slot ranges", () => {
    const parts = new Partitioning(DEFAULT_PARTITIONS);
    const perMaster = [0, 0, 0];
    for (const p of parts.all()) perMaster[Math.min(2, Math.floor(calculateSlot(parts.tag(p)) / 5461))]! += 1;
    expect(perMaster).toEqual([4, 4, 4]);
  });

  it("maps ids stably and about evenly, and makes ids in a chosen partition", () => {
    const parts = new Partitioning(12);
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[parts.of(parts.newOrderId())]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(700);
    expect(parts.of("order-1")).toBe(parts.of("order-1"));
    for (let p = 0; p < 12; p++) expect(parts.of(parts.newOrderId(p))).toBe(p);
  });

  it("refuses a bad count", () => {
    expect(() => new Partitioning(0)).toThrow(/PARTITIONS/);
    expect(() => new Partitioning(1.5)).toThrow(/PARTITIONS/);
    expect(() => new Partitioning(257)).toThrow(/PARTITIONS/);
  });
});

describe("parsePartitionSet", () => {
  it("reads all, single numbers and ranges", () => {
    expect(parsePartitionSet("all", 4)).toEqual([0, 1, 2, 3]);
    expect(parsePartitionSet("", 3)).toEqual([0, 1, 2]);
    expect(parsePartitionSet("0-2,7, 5", 12)).toEqual([0, 1, 2, 5, 7]);
  });

  it("names what is wrong", () => {
    expect(() => parsePartitionSet("3-1", 12)).toThrow(/outside/);
    expect(() => parsePartitionSet("12", 12)).toThrow(/outside 0-11/);
    expect(() => parsePartitionSet("a", 12)).toThrow(/not a partition/);
  });
});
