import { describe, expect, it } from "vitest";
import { parseChannel, userChannel } from "./channels.js";
import { channelsFor, orderFromJson, orderToJson } from "./event-envelope.js";
import { OrderStatus } from "@orderstream/proto";

describe("channels", () => {
  it("accepts the known families", () => {
    expect(parseChannel("orders.created")).toEqual({ kind: "all", name: "orders.created" });
    expect(parseChannel("orders.status")).toEqual({ kind: "all", name: "orders.status" });
    expect(parseChannel(userChannel("alice"))).toEqual({ kind: "user", name: "orders.user.alice", userId: "alice" });
  });

  it.each([["orders.*"], ["orders.user.*"], ["orders.user."], ["orders.other"], ["x".repeat(10_000)], [42], [""]])(
    "rejects %j",
    (name) => {
      expect(parseChannel(name)).toBeUndefined();
    },
  );

  it("routes events to the all-orders channel and the user's", () => {
    expect(channelsFor("order.created", "bob")).toEqual(["orders.created", "orders.user.bob"]);
    expect(channelsFor("order.status", "bob")).toEqual(["orders.status", "orders.user.bob"]);
  });
});

describe("order JSON", () => {
  it("is the proto3 JSON form and converts back", () => {
    const order = {
      id: "o1",
      userId: "u1",
      items: [{ productId: "p", quantity: 2, price: 1.5 }],
      total: 3,
      status: OrderStatus.SHIPPED,
      createdAt: new Date("2026-01-02T03:04:05.678Z"),
      eventOffset: "",
      statusReason: "",
      note: "",
    };
    const json = orderToJson(order);
    expect(json).toEqual({
      id: "o1",
      userId: "u1",
      items: [{ productId: "p", quantity: 2, price: 1.5 }],
      total: 3,
      status: "SHIPPED",
      createdAt: "2026-01-02T03:04:05.678Z",
    });
    expect(orderFromJson(json)).toEqual(order);
  });
});
