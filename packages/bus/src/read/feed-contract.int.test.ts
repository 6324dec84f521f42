import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL_CREATED, CHANNEL_STATUS } from "@orderstream/domain";
import { parseCompositeOffset, parseEventFrame, parseOffset } from "@orderstream/wire";
import { waitUntil } from "@orderstream/testkit";
import { ChannelFeed } from "./channel-feed.js";
import { channelStreams } from "./channel-history.js";
import { Partitioning } from "../layout/partitions.js";
import { BACKENDS, type FeedBackend, feedBackend } from "../testing/feed-fixture.js";
import { partitionStream } from "../layout/keys.js";
import { MemoryBus } from "./memory-broker.js";

const seqOf = (frame: string) => parseOffset(parseEventFrame(frame).offset)?.seq ?? -1;

/** A feed on a broker of its own (one node), recording what its handler got per channel. */
function node(b: FeedBackend, cacheSize = 50) {
  const got = new Map<string, string[]>();
  const feed = new ChannelFeed(
    b.broker(),
    (channel, frame, offset) => {
      expect(parseEventFrame(frame).offset).toBe(offset);
      got.set(channel, [...(got.get(channel) ?? []), frame]);
    },
    { cacheSize, partitions: b.partitions },
  );
  return { feed, got, frames: (ch: string) => got.get(ch) ?? [] };
}

// One contract, every backend: in memory, one Redis node, a Redis Cluster (sharded pub/sub).
describe.each(BACKENDS)("ChannelFeed on the %s backend", (kind) => {
  let b: FeedBackend;
  beforeAll(async () => {
    b = await feedBackend(kind);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
  });

  it("holds one subscription per channel per node, taken on the first reference and dropped with the last", async () => {
    const n1 = node(b);
    const n2 = node(b);
    await Promise.all(Array.from({ length: 50 }, () => n1.feed.acquire("orders.user.share")));
    await n2.feed.acquire("orders.user.share");
    expect(n1.feed.count("orders.user.share")).toBe(50);
    expect(await b.numsub(streamOf("orders.user.share", b.partitions))).toBe(2);
    for (let i = 0; i < 50; i++) n1.feed.release("orders.user.share");
    n1.feed.release("orders.user.share"); // one too many: ignored
    await waitUntil(
      async () => (await b.numsub(streamOf("orders.user.share", b.partitions))) === 1,
      "unsubscribed after the last reference",
    );
    expect(n1.feed.channelCount).toBe(0);
    n2.feed.release("orders.user.share");
  });

  it("delivers live frames in order, once", async () => {
    const n = node(b);
    await n.feed.acquire("orders.user.live");
    const id = await b.create("live");
    for (let i = 0; i < 4; i++) await b.advance(id);
    await waitUntil(() => n.frames("orders.user.live").length === 5, "5 frames");
    expect(n.frames("orders.user.live").map(seqOf)).toEqual([1, 2, 3, 4, 5]);
    n.feed.release("orders.user.live");
  });

  it("catches a resuming subscriber up from memory and history, one history read for many (single flight)", async () => {
    const id = await b.create("resume");
    await b.advance(id);
    await b.advance(id);
    const n = node(b);
    await n.feed.acquire("orders.user.resume");
    const top = parseOffset(n.feed.offset("orders.user.resume"));
    expect(top?.seq).toBe(3);
    const epoch = top?.epoch ?? "";
    const reads = n.feed.historyReads;
    const fromStart = await n.feed.catchUp("orders.user.resume", `${epoch}:0`);
    expect(fromStart.recovered).toBe(true);
    expect(fromStart.frames.map(seqOf)).toEqual([1, 2, 3]);
    const many = await Promise.all([1, 2, 3].map((seq) => n.feed.catchUp("orders.user.resume", `${epoch}:${seq}`)));
    expect(many.map((m) => m.frames.map(seqOf))).toEqual([[2, 3], [3], []]);
    expect(n.feed.historyReads - reads).toBe(1);
    // ":0" (a channel that had no history when the client looked) means everything there is.
    expect((await n.feed.catchUp("orders.user.resume", ":0")).frames.map(seqOf)).toEqual([1, 2, 3]);
    await b.advance(id);
    await waitUntil(() => n.frames("orders.user.resume").length === 1, "live frame 4");
    const after = await n.feed.catchUp("orders.user.resume", `${epoch}:2`);
    expect(after.frames.map(seqOf)).toEqual([3, 4]);
    expect(after.offset).toBe(`${epoch}:4`);
    n.feed.release("orders.user.resume");
  });

  it("answers recovered:false for another epoch, an offset beyond history or a malformed one", async () => {
    const n = node(b);
    await n.feed.acquire("orders.user.stale");
    await b.create("stale");
    await waitUntil(() => n.frames("orders.user.stale").length === 1, "first frame");
    const epoch = parseOffset(n.feed.offset("orders.user.stale"))?.epoch;
    for (const since of ["otherepoch:0", `${epoch}:999`, "k1:1~1.0", "garbage"]) {
      expect((await n.feed.catchUp("orders.user.stale", since)).recovered, since).toBe(false);
    }
    n.feed.release("orders.user.stale");
  });

  it("repairs the gap when its subscription is dropped, delivering every event once", async () => {
    const n = node(b);
    await n.feed.acquire("orders.user.gap");
    const id = await b.create("gap");
    await waitUntil(() => n.frames("orders.user.gap").length === 1, "first frame");
    // Published while the subscription is down: only history has them.
    await b.dropSubscriptions(async () => {
      await b.advance(id);
      await b.advance(id);
    });
    await waitUntil(() => n.frames("orders.user.gap").length >= 3, "repaired frames", 10_000);
    await b.advance(id);
    await waitUntil(() => n.frames("orders.user.gap").length >= 4, "live after repair", 10_000);
    expect(n.frames("orders.user.gap").map(seqOf)).toEqual([1, 2, 3, 4]);
    n.feed.release("orders.user.gap");
  });

  it("merges the partition streams of an all-orders channel: every event once, per-order order, composite offsets that resume on another node", async () => {
    const n1 = node(b, 1000);
    const n2 = node(b, 1000);
    await Promise.all([n1.feed.acquire(CHANNEL_STATUS), n2.feed.acquire(CHANNEL_STATUS)]);
    for (const p of [0, 5, b.partitions.count - 1]) {
      expect(await b.numsub(partitionStream(CHANNEL_STATUS, b.partitions.tag(p)))).toBe(2);
    }
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(await b.create(`fh${i % 3}`));
    for (const id of ids) await b.advance(id);
    for (const id of ids) await b.advance(id);
    await waitUntil(
      () => n1.frames(CHANNEL_STATUS).length === 48 && n2.frames(CHANNEL_STATUS).length === 48,
      "48 status events on both nodes",
      10_000,
    );
    for (const n of [n1, n2]) {
      const events = n.frames(CHANNEL_STATUS).map((f) => parseEventFrame(f));
      expect(new Set(events.map((e) => `${e.data.id}:${e.data.status}`)).size).toBe(48);
      for (const id of ids) expect(events.filter((e) => e.data.id === id).map((e) => e.data.status)).toEqual(["CONFIRMED", "PROCESSING"]);
      expect(events.every((e) => e.channel === CHANNEL_STATUS)).toBe(true);
      // The `<digest>:<sum>` head counts the events a subscriber has: one more per event.
      const sums = events.map((e) => parseOffset(e.offset.slice(0, e.offset.indexOf("~")))?.seq ?? -1);
      expect(sums.slice(1).every((s, i) => s === (sums[i] as number) + 1)).toBe(true);
    }
    // A subscriber of node 1 that stopped at its 24th event resumes on node 2: exactly the rest.
    const at = parseEventFrame(n1.frames(CHANNEL_STATUS)[23] as string).offset;
    expect(parseCompositeOffset(at)?.seqs).toHaveLength(b.partitions.count);
    const seen = new Set(
      n1
        .frames(CHANNEL_STATUS)
        .slice(0, 24)
        .map((f) => parseEventFrame(f).data.id + parseEventFrame(f).data.status),
    );
    const rest = await n2.feed.catchUp(CHANNEL_STATUS, at);
    expect(rest.recovered).toBe(true);
    const restKeys = rest.frames.map((f) => parseEventFrame(f).data.id + parseEventFrame(f).data.status);
    expect(restKeys).toHaveLength(24);
    for (const k of restKeys) expect(seen.has(k)).toBe(false);
    expect(rest.offset).toBe(n2.feed.offset(CHANNEL_STATUS));
    expect(parseEventFrame(rest.frames.at(-1) as string).offset).toBe(rest.offset);
    n1.feed.release(CHANNEL_STATUS);
    n2.feed.release(CHANNEL_STATUS);
  });

  it("follows a new epoch when the history is lost, and reports old offsets as not recovered", async () => {
    const n = node(b);
    await Promise.all([n.feed.acquire("orders.user.flush"), n.feed.acquire(CHANNEL_CREATED)]);
    await b.create("flush");
    await waitUntil(() => n.frames("orders.user.flush").length === 1 && n.frames(CHANNEL_CREATED).length === 1, "first frames");
    const oldUser = n.feed.offset("orders.user.flush") as string;
    const oldAll = n.feed.offset(CHANNEL_CREATED) as string;
    await b.loseHistory();
    await b.create("flush");
    await waitUntil(() => n.frames("orders.user.flush").length === 2 && n.frames(CHANNEL_CREATED).length === 2, "frames of the new epoch");
    const fresh = parseOffset(n.feed.offset("orders.user.flush"));
    expect(fresh?.epoch).not.toBe(parseOffset(oldUser)?.epoch);
    expect(fresh?.seq).toBe(1);
    expect((await n.feed.catchUp("orders.user.flush", oldUser)).recovered).toBe(false);
    expect(parseCompositeOffset(n.feed.offset(CHANNEL_CREATED))?.digest).not.toBe(parseCompositeOffset(oldAll)?.digest);
    expect((await n.feed.catchUp(CHANNEL_CREATED, oldAll)).recovered).toBe(false);
    n.feed.release("orders.user.flush");
    n.feed.release(CHANNEL_CREATED);
  });
});

describe("ChannelFeed subscription ownership (memory backend)", () => {
  it("batches a tick's subscriptions into one broker call and rolls a refused batch back for every waiter", async () => {
    const bus = new MemoryBus();
    const broker = bus.broker();
    const calls: number[] = [];
    const subscribe = broker.subscribe.bind(broker);
    broker.subscribe = (channels) => {
      calls.push(channels.length);
      return subscribe(channels);
    };
    const feed = new ChannelFeed(broker, () => undefined);
    await Promise.all(["orders.user.a", "orders.user.b", "orders.user.c"].map((c) => feed.acquire(c)));
    expect(calls).toEqual([3]);
    broker.failNextSubscribe = new Error("refused");
    const refused = await Promise.allSettled([feed.acquire("orders.user.d"), feed.acquire("orders.user.d"), feed.acquire("orders.user.e")]);
    expect(refused.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(feed.count("orders.user.d")).toBe(0);
    expect(bus.numsub(streamOf("orders.user.d", new Partitioning())) + bus.numsub(streamOf("orders.user.e", new Partitioning()))).toBe(0);
    // The next attempt starts afresh.
    await feed.acquire("orders.user.d");
    expect(bus.numsub(streamOf("orders.user.d", new Partitioning()))).toBe(1);
  });

  it("gives up on a subscription the broker does not answer, holding nothing", async () => {
    const bus = new MemoryBus();
    const broker = bus.broker();
    broker.subscribe = () => new Promise(() => undefined);
    const feed = new ChannelFeed(broker, () => undefined, { subscribeTimeoutMs: 50 });
    await expect(feed.acquire("orders.user.slow")).rejects.toThrow("timed out");
    expect(feed.channelCount).toBe(0);
  });

  it("waits past the timeout for a slow answer while the broker is connected, not while it is away", async () => {
    const bus = new MemoryBus();
    const broker = bus.broker();
    const subscribe = broker.subscribe.bind(broker);
    broker.subscribe = async (channels) => {
      await new Promise((r) => setTimeout(r, 150));
      return subscribe(channels);
    };
    const feed = new ChannelFeed(broker, () => undefined, { subscribeTimeoutMs: 50 });
    await feed.acquire("orders.user.busy"); // 3 timeouts, connected: still subscribed
    expect(feed.count("orders.user.busy")).toBe(1);

    broker.disconnect();
    const t0 = Date.now();
    await expect(feed.acquire("orders.user.away")).rejects.toThrow(/timed out after \d+ ms/);
    expect(Date.now() - t0).toBeLessThan(150);
    expect(feed.count("orders.user.away")).toBe(0);
  });
});

/** The stream that carries a user's channel (in its user's partition). */
function streamOf(channel: string, partitions: Partitioning): string {
  return channelStreams(channel, partitions)[0] as string;
}
