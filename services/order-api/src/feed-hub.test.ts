import { CHANNEL_STATUS, userChannel } from "@orderstream/domain";
import { Partitioning, channelStreams, partitionStream } from "@orderstream/bus";
import { MemoryBus } from "@orderstream/bus/testing";
import { waitUntil } from "@orderstream/testkit";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type FeedEvent, FeedHub } from "./feed-hub.js";

// FeedHub on the in-memory broker: the SubscribeOrders side of the feed, where Redis adds nothing.
const order = (id: string, status: string) => JSON.stringify({ id, userId: "u", items: [], total: 0, status, createdAt: "2026-01-01T00:00:00.000Z" });

describe("FeedHub", () => {
  it("replays from an offset, then streams live, parsing each event once for every stream", async () => {
    const bus = new MemoryBus();
    const hub = new FeedHub(bus.broker(), pino({ level: "silent" }));
    const ch = userChannel("u");
    // The user's channel is carried on its stream in the user's partition.
    const [stream] = channelStreams(ch, new Partitioning()) as [string];
    bus.publish(stream, "order.created", order("a", "PENDING"));
    const first = await hub.open(ch);
    const start = first.offset();
    bus.publish(stream, "order.status", order("a", "CONFIRMED"));
    const got: [string, string, boolean][] = [];
    const seen = new Set<FeedEvent>();
    const sinkOf = () => (ev: FeedEvent, replay: boolean): void => {
      seen.add(ev);
      got.push([ev.order.id, ev.offset, replay]);
    };
    await waitUntil(() => first.offset() !== start, "live position moved");
    expect((await first.attach(start, sinkOf())).recovered).toBe(true);
    const second = await hub.open(ch);
    await second.attach(undefined, sinkOf());
    bus.publish(stream, "order.status", order("a", "PROCESSING"));
    await waitUntil(() => got.length === 3, "replayed + live to both streams");
    expect(got.map(([, , replay]) => replay)).toEqual([true, false, false]);
    // The live event reached both streams as one parsed object (the replayed one is another).
    expect(seen.size).toBe(2);
    expect(got[1]?.[1]).toBe(got[2]?.[1]);
    first.leave();
    second.leave();
    first.leave();
    expect(hub.channelCount).toBe(0);
    await waitUntil(() => bus.numsub(ch) === 0, "unsubscribed after the last lease");
  });

  it("streams the all-orders channel from every partition with composite offsets, and skips a malformed frame", async () => {
    const bus = new MemoryBus();
    const partitions = new Partitioning(4);
    const hub = new FeedHub(bus.broker(), pino({ level: "silent" }), { partitions });
    const lease = await hub.open(CHANNEL_STATUS);
    const got: FeedEvent[] = [];
    await lease.attach(undefined, (ev) => got.push(ev));
    for (let p = 0; p < 4; p++) bus.publish(partitionStream(CHANNEL_STATUS, partitions.tag(p)), "order.status", order(`o${p}`, "CONFIRMED"));
    bus.publish(partitionStream(CHANNEL_STATUS, partitions.tag(1)), "order.status", "{not json");
    bus.publish(partitionStream(CHANNEL_STATUS, partitions.tag(2)), "order.status", order("late", "SHIPPED"));
    await waitUntil(() => got.length === 5, "5 good events");
    expect(got.map((e) => e.order.id).sort()).toEqual(["late", "o0", "o1", "o2", "o3"]);
    expect(got.every((e) => /^[a-z0-9]+:\d+~\d+\.\d+\.\d+\.\d+$/.test(e.offset))).toBe(true);
    expect(got.at(-1)?.offset).toBe(lease.offset());
    lease.leave();
  });
});
