import { describe, expect, it } from "vitest";
import { SubscribeQueue, subscribeErrorKind } from "./subscribe-queue.js";

const all = () => true;
const none = () => ({});

describe("SubscribeQueue", () => {
  it("has one frame in flight; channels asked meanwhile are merged into the next one", () => {
    const q = new SubscribeQueue();
    q.add(["a", "b"]);
    expect(q.next(all, (chs) => ({ [chs[0] as string]: "e:1" }))).toEqual({ channels: ["a", "b"], since: { a: "e:1" } });
    q.add(["c"]);
    q.add(["d", "c"]);
    expect(q.next(all, none)).toBeUndefined();
    expect(q.settle(["b", "a"])?.resumed).toEqual(["a"]);
    expect(q.next(all, none)).toEqual({ channels: ["c", "d"], since: {} });
  });

  it("settles only the frame in flight and skips channels no longer wanted", () => {
    const q = new SubscribeQueue();
    q.add(["a"]);
    q.next(all, none);
    expect(q.settle(["x"])).toBeUndefined();
    expect(q.inFlight?.channels).toEqual(["a"]);
    expect(q.fail()?.channels).toEqual(["a"]);
    q.add(["gone", "kept"]);
    expect(q.next((c) => c !== "gone", none)?.channels).toEqual(["kept"]);
  });

  it("addEachFirst sends channels one per frame, before anything queued", () => {
    const q = new SubscribeQueue();
    q.add(["later"]);
    q.addEachFirst(["x", "y"]);
    q.add(["z"]); // merges into the last non-solo frame
    const order: string[][] = [];
    for (let f = q.next(all, none); f; f = q.next(all, none)) {
      order.push(f.channels);
      q.settle(f.channels);
    }
    expect(order).toEqual([["x"], ["y"], ["later", "z"]]);
  });

  it("classifies error codes", () => {
    expect(["bad_channel", "forbidden", "too_many_channels"].map(subscribeErrorKind)).toEqual(["fatal", "fatal", "fatal"]);
    expect(["unavailable", "internal"].map(subscribeErrorKind)).toEqual(["retry", "retry"]);
    expect(subscribeErrorKind("rate_limited")).toBeUndefined();
  });
});
