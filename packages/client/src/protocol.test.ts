import { describe, expect, it } from "vitest";
import type { OrderJson as DomainOrderJson } from "@orderstream/domain";
import { processOrderFrame, subscribeFrame } from "@orderstream/wire";
import { type OrderJson, parseServerFrame } from "./protocol.js";

// The SDK's OrderJson is the wire's, as the domain's is (checked by `npm run typecheck:tests -w @orderstream/client`).
const toDomain = (o: OrderJson): DomainOrderJson => o;
const fromDomain = (o: DomainOrderJson): OrderJson => o;

describe("protocol frames", () => {
  it("parses every frame type the edge sends", () => {
    const order = { id: "o1", userId: "u1", items: [{ productId: "p", quantity: 2, price: 3 }], total: 6, status: "PENDING", createdAt: "2026-01-01T00:00:00Z" };
    expect(toDomain(fromDomain(order))).toBe(order);
    expect(parseServerFrame(JSON.stringify({ type: "order.created", channel: "orders.created", offset: "e:1", data: order }))).toEqual({
      type: "order.created", channel: "orders.created", offset: "e:1", data: order,
    });
    expect(parseServerFrame('{"type":"subscribed","channels":["a"],"recovered":false,"offsets":{"a":"e:3","b":7}}')).toEqual({
      type: "subscribed", channels: ["a"], recovered: false, offsets: { a: "e:3" }, id: undefined,
    });
    expect(parseServerFrame('{"type":"unsubscribed","channels":["a"],"id":4}')).toEqual({ type: "unsubscribed", channels: ["a"], id: 4 });
    expect(parseServerFrame('{"type":"process_order.result","order_id":"o1","status":"CONFIRMED","id":"x"}')).toEqual({
      type: "process_order.result", result: { orderId: "o1", status: "CONFIRMED" }, id: "x",
    });
    expect(parseServerFrame('{"type":"connected","user":"alice","exp":null,"id":1}')).toEqual({ type: "connected", user: "alice", exp: undefined, id: 1 });
    expect(parseServerFrame('{"type":"process_order.result","order_id":"o1","status":"","error_code":"not_found","message":"no such order"}')).toEqual({
      type: "process_order.result", result: { orderId: "o1", status: "", errorCode: "not_found", message: "no such order" }, id: undefined,
    });
    expect(parseServerFrame('{"type":"error","error":{"code":"rate_limited","message":"slow down"}}')).toEqual({ type: "error", code: "rate_limited", message: "slow down", id: undefined });
  });

  it("rejects malformed or unknown frames", () => {
    for (const bad of ["", "nope", "[]", "null", '{"type":"x"}', '{"type":"order.created","channel":"c"}', '{"type":"error","error":"x"}', '{"type":"subscribed"}', '{"type":"error","error":{"code":"made_up"}}'])
      expect(parseServerFrame(bad), bad).toBeUndefined();
  });

  it("writes client frames as the edge expects them", () => {
    expect(JSON.parse(subscribeFrame(["a", "b"], { a: "e:1" }))).toEqual({ type: "subscribe", channels: ["a", "b"], since: { a: "e:1" } });
    expect(JSON.parse(subscribeFrame(["a"], {}))).toEqual({ type: "subscribe", channels: ["a"] });
    expect(JSON.parse(processOrderFrame("o1", "ship", 5))).toEqual({ type: "process_order", order_id: "o1", timestamp: 5, action: "ship" });
    expect(JSON.parse(processOrderFrame("o1", undefined, 5))).toEqual({ type: "process_order", order_id: "o1", timestamp: 5 });
  });
});
