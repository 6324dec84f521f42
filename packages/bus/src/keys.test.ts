import { describe, expect, it } from "vitest";
import calculateSlot from "cluster-key-slot";
import {
  appliedKey,
  bullmqPrefix,
  channelOfPubsub,
  historyKey,
  idempotencyKey,
  jobDataKey,
  jobOutboxKey,
  metaKey,
  orderKey,
  pendingKey,
  firehoseChannel,
  pubsubChannel,
} from "./keys.js";
import { Partitioning } from "./partitions.js";
import * as scripts from "./event-scripts.js";

describe("key names", () => {
  it("tags each channel's keys with the channel name, and a partition stream's with its partition (one Cluster slot each)", () => {
    for (const k of [historyKey("orders.user.a@b"), metaKey("orders.user.a@b"), pubsubChannel("orders.user.a@b")]) {
      expect(k).toContain("{orders.user.a@b}");
    }
    const p = new Partitioning(12);
    for (const ch of ["orders.created", "orders.status"]) {
      const fh = firehoseChannel(ch, p.tag(5));
      const slot = calculateSlot(orderKey(p.tag(5), "o"));
      for (const k of [historyKey(fh), metaKey(fh), pubsubChannel(fh), appliedKey(fh, "o", 1)]) expect(calculateSlot(k)).toBe(slot);
      expect(channelOfPubsub(pubsubChannel(fh))).toBe(fh);
    }
    expect(historyKey(firehoseChannel("orders.created", "1.2"))).not.toBe(historyKey(firehoseChannel("orders.status", "1.2")));
  });

  it("maps pub/sub channel names back and refuses foreign ones", () => {
    expect(channelOfPubsub(pubsubChannel("orders.user.a"))).toBe("orders.user.a");
    expect(channelOfPubsub("other:ch:{x}")).toBeUndefined();
    expect(channelOfPubsub("os:ch:{x}y")).toBeUndefined();
  });

  it("puts every key of a partition in one slot, and a channel's markers in the channel's slot", () => {
    const t = "3.7";
    const slot = calculateSlot(orderKey(t, "o1"));
    for (const k of [idempotencyKey(t, "u", "k"), pendingKey(t), jobOutboxKey(t), jobDataKey(t), `${bullmqPrefix(t)}:orders:wait`]) {
      expect(calculateSlot(k)).toBe(slot);
    }
    expect(calculateSlot(appliedKey("orders.user.a", "o1", 2))).toBe(calculateSlot(historyKey("orders.user.a")));
  });

  it("never builds a key name inside Lua: every key comes in KEYS", () => {
    for (const [name, lua] of Object.entries(scripts)) {
      expect(lua, name).not.toMatch(/['"]os:|\.\. *'[a-z]+:\{/);
      expect(lua, name).not.toContain("KEY_PREFIX");
    }
  });
});
