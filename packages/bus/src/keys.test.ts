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
  pubsubChannel,
} from "./keys.js";
import * as scripts from "./event-scripts.js";

describe("key names", () => {
  it("puts the two all-orders channels on different masters of 2, 3, 4 or 6 equal slot ranges", () => {
    const created = calculateSlot(historyKey("orders.created"));
    const status = calculateSlot(historyKey("orders.status"));
    for (const masters of [2, 3, 4, 6]) {
      const range = 16384 / masters;
      expect(Math.floor(created / range), `${masters} masters`).not.toBe(Math.floor(status / range));
    }
  });

  it("tags each channel's keys with the channel name (one Cluster slot)", () => {
    for (const k of [historyKey("orders.user.a"), metaKey("orders.user.a"), pubsubChannel("orders.user.a")]) {
      expect(k).toContain("{orders.user.a}");
    }
    for (const ch of ["orders.created", "orders.status"]) {
      const slot = calculateSlot(historyKey(ch));
      for (const k of [metaKey(ch), pubsubChannel(ch), appliedKey(ch, "o", 1)]) expect(calculateSlot(k)).toBe(slot);
      expect(channelOfPubsub(pubsubChannel(ch))).toBe(ch);
    }
  });

  it("maps pub/sub channel names back and refuses foreign ones", () => {
    expect(channelOfPubsub(pubsubChannel("orders.user.a"))).toBe("orders.user.a");
    expect(channelOfPubsub("other:ch:{x}")).toBeUndefined();
  });

  it("puts every key of a partition in one slot, and a channel's markers in the channel's slot", () => {
    const t = "3.7";
    const slot = calculateSlot(orderKey(t, "o1"));
    for (const k of [idempotencyKey(t, "k"), pendingKey(t), jobOutboxKey(t), jobDataKey(t), `${bullmqPrefix(t)}:orders:wait`]) {
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
