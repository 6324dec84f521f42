import { readdirSync } from "node:fs";
import calculateSlot from "cluster-key-slot";
import { describe, expect, it } from "vitest";
import { channelStreams } from "../read/channel-history.js";
import {
  bullmqPrefix,
  channelOfPubsub,
  dueKey,
  historyKey,
  idempotencyKey,
  metaKey,
  orderKey,
  partitionStream,
  pubsubChannel,
} from "./keys.js";
import { loadLua } from "./lua-loader.js";
import { Partitioning } from "./partitions.js";

describe("key names", () => {
  it("puts every key one event touches in its user's partition: one Cluster slot", () => {
    const p = new Partitioning(12);
    const tag = p.tag(p.ofUser("a@b"));
    const slot = calculateSlot(dueKey(tag));
    const [user] = channelStreams("orders.user.a@b", p) as [string];
    const keys = [orderKey(tag, p.newOrderId(p.ofUser("a@b"))), idempotencyKey(tag, "a@b", "k"), `${bullmqPrefix(tag)}:orders:wait`];
    for (const stream of [user, partitionStream("orders.created", tag), partitionStream("orders.status", tag)]) {
      keys.push(historyKey(stream), metaKey(stream), pubsubChannel(stream));
      expect(channelOfPubsub(pubsubChannel(stream))).toBe(stream);
    }
    for (const k of keys) expect(calculateSlot(k), k).toBe(slot);
    expect(historyKey(partitionStream("orders.created", "1.2"))).not.toBe(historyKey(partitionStream("orders.status", "1.2")));
  });

  it("scopes idempotency keys to their user, unambiguously", () => {
    expect(idempotencyKey("t", "a", "b:c")).not.toBe(idempotencyKey("t", "a:b", "c"));
  });

  it("maps pub/sub channel names back and refuses foreign ones", () => {
    expect(channelOfPubsub(pubsubChannel("orders.user.a"))).toBe("orders.user.a");
    expect(channelOfPubsub("other:ch:{x}")).toBeUndefined();
    expect(channelOfPubsub("os:ch:{x}y")).toBeUndefined();
  });

  it("never builds a key name inside Lua: every key comes in KEYS", () => {
    const files = readdirSync(new URL("../../lua/", import.meta.url)).filter((f) => f.endsWith(".lua"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const lua = loadLua(f.slice(0, -4));
      expect(lua, f).not.toMatch(/['"]os:|\.\. *'[a-z]+:\{/);
      expect(lua, f).not.toContain("@include");
    }
  });
});
