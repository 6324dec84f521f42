import { describe, expect, it } from "vitest";
import { Aggregator } from "./aggregator.js";
import { DeliveryTracker, mergeDelivery } from "./delivery-tracker.js";
import { StatsCollector } from "./stats.js";

describe("DeliveryTracker", () => {
  it("expects each order on all-orders sockets and its owner's socket, from subscription time on", () => {
    const stats = new StatsCollector();
    const t = new DeliveryTracker(stats);
    t.addSocket(0, undefined, true); // all orders
    t.addSocket(1, "u1", false); // user u1
    t.addSocket(2, "u2", false); // user u2, subscribes late
    t.addSocket(3, undefined, true); // never subscribes (failed): expects nothing
    t.subscribed(0, 1000);
    t.subscribed(1, 1000);
    t.subscribed(2, 2500);
    // the event for o1 beats the RPC reply on socket 0
    t.received(0, "o1", 1010);
    t.announce([
      { id: "o1", userId: "u1", sentAt: 1002 },
      { id: "o2", userId: "u2", sentAt: 2000 },
      { id: "o3", userId: "u2", sentAt: 3000 },
    ]);
    t.received(1, "o1", 1012);
    t.received(0, "o2", 2004);
    t.received(0, "o2", 2005); // duplicate
    t.received(2, "o3", 3001);
    // o3 never reaches socket 0: one loss
    expect(t.report()).toEqual({ expected: 5, received: 4, missing: 1, duplicates: 1, lossRatio: 0.2 });
    const agg = new Aggregator(0);
    agg.add("w0", stats.takeDelta(), 10);
    const lat = agg.latency()["delivery"];
    expect(lat?.count).toBe(4);
    expect(lat?.max).toBeCloseTo(10, 1);
    expect(lat?.p50).toBeGreaterThanOrEqual(4);
  });

  it("grows its per-socket bitmaps past the initial size", () => {
    const t = new DeliveryTracker(new StatsCollector());
    t.addSocket(0, undefined, true);
    t.subscribed(0, 0);
    const orders = Array.from({ length: 2000 }, (_, i) => ({ id: `o${i}`, userId: "u", sentAt: 1 }));
    t.announce(orders);
    for (const o of orders) if (o.id !== "o1999") t.received(0, o.id, 2);
    expect(t.report()).toMatchObject({ expected: 2000, received: 1999, missing: 1, duplicates: 0 });
  });

  it("forgets arrivals of orders nobody announces (another slice's) after 15 s, keeps its own", () => {
    const stats = new StatsCollector();
    const t = new DeliveryTracker(stats);
    t.addSocket(0, undefined, true);
    t.subscribed(0, 0);
    t.received(0, "foreign", 1000); // created by another slice: never announced here
    t.received(0, "own", 1100); // beats its RPC reply
    t.received(0, "later", 17_000); // 16 s on: both arrivals above are past the TTL now
    t.announce([
      { id: "own", userId: "u", sentAt: 1090 },
      { id: "later", userId: "u", sentAt: 16_990 },
    ]);
    const agg = new Aggregator(0);
    agg.add("w0", stats.takeDelta(), 10);
    // "own" was announced too late to be matched; "later" within the TTL: one latency of 10 ms
    expect(agg.latency()["delivery"]?.count).toBe(1);
    expect(agg.latency()["delivery"]?.max).toBeCloseTo(10, 1);
    expect(t.report()).toMatchObject({ expected: 2, received: 2, missing: 0 });
  });

  it("merges fleet reports", () => {
    const r = mergeDelivery([
      { expected: 10, received: 10, missing: 0, duplicates: 0, lossRatio: 0 },
      { expected: 30, received: 28, missing: 2, duplicates: 1, lossRatio: 2 / 30 },
    ]);
    expect(r).toEqual({ expected: 40, received: 38, missing: 2, duplicates: 1, lossRatio: 0.05 });
  });
});

describe("Aggregator", () => {
  it("merges encoded histograms and counters from several workers into totals and a timeline", () => {
    const a = new StatsCollector();
    const b = new StatsCollector();
    for (let i = 1; i <= 100; i++) a.record("delivery", i); // 1..100 ms
    for (let i = 1; i <= 100; i++) b.record("delivery", 1000 + i); // 1001..1100 ms
    a.counters.messages = 100;
    b.counters.messages = 100;
    a.open = 5;
    b.open = 7;
    a.close(1006);
    b.close(1006);
    b.connectError("ECONNREFUSED");
    const agg = new Aggregator(0);
    agg.add("w0", a.takeDelta(), 500);
    agg.add("w1", b.takeDelta(), 1500);
    const lat = agg.latency()["delivery"];
    expect(lat?.count).toBe(200);
    expect(lat?.p50).toBeCloseTo(100, 0);
    expect(lat?.max).toBeCloseTo(1100, -1);
    expect(agg.counts).toMatchObject({ messages: 200, closes: { "1006": 2 }, connectErrors: 1, maxOpen: 12 });
    const tl = agg.timeline();
    expect(tl.map((p) => [p.t, p.messages, p.open])).toEqual([
      [0, 100, 5],
      [1, 100, 12],
    ]);
    expect(tl[1]?.p99).toBeGreaterThan(1000);
    // the next delta of a worker replaces its gauge, it does not add to it
    a.open = 1;
    agg.add("w0", a.takeDelta(), 2500);
    expect(agg.open).toBe(8);
  });
});
