import { describe, expect, it } from "vitest";
import { OrderStatus } from "@orderstream/proto";
import { TRANSITIONS, canApply, isOrderAction, isTerminal, parseStatus, statusName } from "./order-status.js";

const ALL = [
  OrderStatus.PENDING,
  OrderStatus.CONFIRMED,
  OrderStatus.PROCESSING,
  OrderStatus.SHIPPED,
  OrderStatus.DELIVERED,
  OrderStatus.CANCELLED,
];

describe("order state machine", () => {
  it("moves along the happy path one step per action", () => {
    expect(TRANSITIONS.confirm).toEqual({ from: [OrderStatus.PENDING], to: OrderStatus.CONFIRMED });
    expect(TRANSITIONS.process.to).toBe(OrderStatus.PROCESSING);
    expect(TRANSITIONS.ship.to).toBe(OrderStatus.SHIPPED);
    expect(TRANSITIONS.deliver.to).toBe(OrderStatus.DELIVERED);
  });

  it.each([
    ["confirm", [OrderStatus.PENDING]],
    ["process", [OrderStatus.CONFIRMED]],
    ["ship", [OrderStatus.PROCESSING]],
    ["deliver", [OrderStatus.SHIPPED]],
    ["cancel", [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.FAILED]],
    ["retry", [OrderStatus.FAILED]],
    ["fail", [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED]],
  ] as const)("%s applies exactly from %j", (action, from) => {
    for (const s of ALL) expect(canApply(action, s)).toBe((from as readonly OrderStatus[]).includes(s));
  });

  it("refuses DELIVERED -> CANCELLED and anything out of a terminal status", () => {
    expect(canApply("cancel", OrderStatus.DELIVERED)).toBe(false);
    for (const a of Object.keys(TRANSITIONS) as (keyof typeof TRANSITIONS)[]) {
      expect(canApply(a, OrderStatus.DELIVERED)).toBe(false);
      expect(canApply(a, OrderStatus.CANCELLED)).toBe(false);
    }
    expect(isTerminal(OrderStatus.DELIVERED)).toBe(true);
    expect(isTerminal(OrderStatus.CANCELLED)).toBe(true);
    expect(isTerminal(OrderStatus.SHIPPED)).toBe(false);
  });

  it("knows its action names only", () => {
    expect(isOrderAction("ship")).toBe(true);
    expect(isOrderAction("retry")).toBe(true);
    expect(isOrderAction("fail")).toBe(false); // the processor's own
    expect(isOrderAction("refund")).toBe(false);
    expect(isOrderAction("toString")).toBe(false);
  });

  it("round-trips status names", () => {
    for (const s of ALL) expect(parseStatus(statusName(s))).toBe(s);
    expect(parseStatus("shipped")).toBe(OrderStatus.SHIPPED);
    expect(parseStatus("LOST")).toBeUndefined();
  });
});
