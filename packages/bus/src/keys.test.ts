import { describe, expect, it } from "vitest";
import { channelOfPubsub, historyKey, metaKey, pubsubChannel } from "./keys.js";
import { CREATE_ORDER_LUA } from "./event-scripts.js";

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

  it("uses the same patterns as the Lua scripts", () => {
    expect(CREATE_ORDER_LUA).toContain("P .. 'hist:{' .. ch .. '}'");
    expect(historyKey("c")).toBe("os:hist:{c}");
    expect(CREATE_ORDER_LUA).toContain("P .. 'meta:{' .. ch .. '}'");
    expect(metaKey("c")).toBe("os:meta:{c}");
    expect(CREATE_ORDER_LUA).toContain("P .. 'ch:{' .. ch .. '}'");
    expect(pubsubChannel("c")).toBe("os:ch:{c}");
  });
});
