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
  it("tags each channel's keys with the channel name (one Cluster slot)", () => {
    for (const k of [historyKey("orders.status"), metaKey("orders.status"), pubsubChannel("orders.status")]) {
      expect(k).toContain("{orders.status}");
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
