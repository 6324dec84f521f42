import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEventFrame, parseOffset } from "@orderstream/domain";
import { waitUntil } from "@orderstream/testkit";
import { type BusFixture, TOPOLOGIES, busFixture } from "./bus-fixture.js";
import { ChannelFeed } from "./channel-feed.js";
import { pubsubChannel } from "./keys.js";

const req = (userId: string) => ({ userId, items: [{ productId: "sku", quantity: 1, price: 1 }] });
const seqOf = (frame: string) => parseOffset(parseEventFrame(frame).offset)?.seq ?? -1;

// The feed's contract, on one Redis node and on a Redis Cluster (sharded pub/sub).
describe.each(TOPOLOGIES)("on %s Redis", (topology) => {
  let f: BusFixture;
  let feed: ChannelFeed;
  beforeAll(async () => {
    f = await busFixture(topology);
    feed = new ChannelFeed(f.subscriber, f.history, { cacheSize: 50 });
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  describe("ChannelFeed", () => {
    it("shares one Redis subscription per channel and releases it with the last listener", async () => {
      const releases = await Promise.all(Array.from({ length: 100 }, () => feed.listen("orders.user.share", () => undefined)));
      expect(await f.numsub(pubsubChannel("orders.user.share"))).toBe(1);
      for (const r of releases) r();
      await waitUntil(async () => (await f.numsub(pubsubChannel("orders.user.share"))) === 0, "unsubscribe after the last listener");
    });

    it("delivers live frames in order, once", async () => {
      const got: number[] = [];
      const release = await feed.listen("orders.user.live", (frame) => got.push(seqOf(frame)));
      const { order } = await f.store.create(req("live"));
      for (const a of ["confirm", "process", "ship", "deliver"] as const) await f.store.transition(order.id, a);
      await waitUntil(() => got.length === 5, "5 frames");
      expect(got).toEqual([1, 2, 3, 4, 5]);
      release();
    });

    it("catches a resuming subscriber up from memory and from history with no gap or duplicate", async () => {
      const { order } = await f.store.create(req("resume"));
      await f.store.transition(order.id, "confirm");
      await f.store.transition(order.id, "process");
      // Three events are now in history; the feed starts listening only now (empty cache).
      const live: number[] = [];
      const release = await feed.listen("orders.user.resume", (frame) => live.push(seqOf(frame)));
      const top = feed.position("orders.user.resume");
      expect(top?.seq).toBe(3);
      const epoch = top?.epoch ?? "";
      const readsBefore = feed.historyReads;
      const fromStart = await feed.catchUp("orders.user.resume", { epoch, seq: 0 });
      expect(fromStart.recovered).toBe(true);
      expect(fromStart.frames.map(seqOf)).toEqual([1, 2, 3]);
      // Concurrent resumes at later offsets are served by that one read (single flight + cache).
      const many = await Promise.all([1, 2, 3].map((seq) => feed.catchUp("orders.user.resume", { epoch, seq })));
      expect(many.map((m) => m.frames.map(seqOf))).toEqual([[2, 3], [3], []]);
      expect(feed.historyReads - readsBefore).toBe(1);
      await f.store.transition(order.id, "ship");
      await waitUntil(() => live.length === 1, "live frame 4");
      const after = await feed.catchUp("orders.user.resume", { epoch, seq: 2 });
      expect(after.frames.map(seqOf)).toEqual([3, 4]);
      expect(after.position.seq).toBe(4);
      release();
    });

    it("answers recovered:false for another epoch or an offset beyond history", async () => {
      const release = await feed.listen("orders.user.stale", () => undefined);
      await f.store.create(req("stale"));
      await waitUntil(() => feed.position("orders.user.stale")?.seq === 1, "first frame");
      const r1 = await feed.catchUp("orders.user.stale", { epoch: "otherepoch", seq: 0 });
      expect(r1.recovered).toBe(false);
      const epoch = feed.position("orders.user.stale")?.epoch ?? "";
      const r2 = await feed.catchUp("orders.user.stale", { epoch, seq: 999 });
      expect(r2.recovered).toBe(false);
      release();
    });

    it("repairs the gap when its Redis subscription is killed, delivering every event once", async () => {
      const got: number[] = [];
      const release = await feed.listen("orders.user.gap", (frame) => got.push(seqOf(frame)));
      const { order } = await f.store.create(req("gap"));
      await waitUntil(() => got.length === 1, "first frame");
      await f.killSubscribers();
      // Published while the subscriber is reconnecting: only history has them.
      await f.store.transition(order.id, "confirm");
      await f.store.transition(order.id, "process");
      await waitUntil(() => got.length >= 3, "repaired frames", 10_000);
      await f.store.transition(order.id, "ship");
      await waitUntil(() => got.length >= 4, "live after repair", 10_000);
      expect(got).toEqual([1, 2, 3, 4]);
      release();
    });

    it("follows a new epoch when Redis loses its data, and reports old offsets as not recovered", async () => {
      const got: string[] = [];
      const release = await feed.listen("orders.user.flush", (frame) => got.push(parseEventFrame(frame).offset));
      await f.store.create(req("flush"));
      await waitUntil(() => got.length === 1, "first frame");
      const old = parseOffset(got[0]);
      await f.flushAll();
      await f.store.create(req("flush"));
      await waitUntil(() => got.length === 2, "frame of the new epoch");
      const fresh = parseOffset(got[1]);
      expect(fresh?.epoch).not.toBe(old?.epoch);
      expect(fresh?.seq).toBe(1);
      if (!old) throw new Error("offset");
      expect((await feed.catchUp("orders.user.flush", old)).recovered).toBe(false);
      release();
    });
  });

  describe("after Redis lost its data", () => {
    it("reads a new epoch from its first event when the first frame it sees is not seq 1", async () => {
      const got: string[] = [];
      const release = await feed.listen("orders.user.epoch2", (frame) => got.push(parseEventFrame(frame).offset));
      await f.store.create(req("epoch2"));
      await waitUntil(() => got.length === 1, "first frame");
      await f.flushAll();
      // Two events of the new epoch are published while the feed's subscription is down, so the
      // first new-epoch frame it receives live is seq 3.
      await f.killSubscribers();
      const { order } = await f.store.create(req("epoch2"));
      await f.store.transition(order.id, "confirm");
      await waitUntil(() => f.sub.status === "ready", "subscriber back");
      await f.store.transition(order.id, "process");
      await waitUntil(() => got.length === 4, "the new epoch's three frames", 10_000);
      const fresh = got.slice(1).map((o) => parseOffset(o));
      expect(fresh.map((p) => p?.seq)).toEqual([1, 2, 3]);
      expect(new Set(fresh.map((p) => p?.epoch)).size).toBe(1);
      expect(fresh[0]?.epoch).not.toBe(parseOffset(got[0])?.epoch);
      release();
    });
  });
});

describe("ChannelFeed on a Redis Cluster (sharded pub/sub)", () => {
  let c: BusFixture;
  beforeAll(async () => {
    c = await busFixture("cluster");
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it("subscribes channels of many slots in one turn (one SSUBSCRIBE per slot), once each, and delivers their events", async () => {
    const cfeed = new ChannelFeed(c.subscriber, c.history);
    const users = Array.from({ length: 40 }, (_, i) => `slot-${i}`);
    const got = new Map<string, number[]>();
    const releases = await Promise.all(
      users.map((u) => cfeed.listen(`orders.user.${u}`, (frame) => got.set(u, [...(got.get(u) ?? []), seqOf(frame)]))),
    );
    for (const u of users) {
      const { order } = await c.store.create(req(u));
      await c.store.transition(order.id, "confirm");
    }
    await waitUntil(() => users.every((u) => got.get(u)?.length === 2), "two events on every channel", 10_000);
    expect(users.map((u) => got.get(u))).toEqual(users.map(() => [1, 2]));
    // Exactly one subscriber per channel, on the master that owns the channel's slot.
    for (const u of users.slice(0, 5)) {
      const ch = pubsubChannel(`orders.user.${u}`);
      expect(await c.numsub(ch)).toBe(1);
    }
    for (const r of releases) r();
  });
});
