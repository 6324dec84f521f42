import { describe, expect, it } from "vitest";
import type { CreateOrderRequest } from "@orderstream/proto";
import { validateCreateOrder } from "./order-validation.js";
import { ValidationError } from "./validation-error.js";

const item = { productId: "sku-1", quantity: 2, price: 9.99 };
const req = (over: Partial<CreateOrderRequest> = {}): CreateOrderRequest => ({ userId: "alice", items: [item], ...over });

function fieldOf(r: CreateOrderRequest): string {
  try {
    validateCreateOrder(r);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).field;
  }
  throw new Error("expected a ValidationError");
}

describe("validateCreateOrder", () => {
  it("accepts a well-formed order and copies its items", () => {
    const v = validateCreateOrder(req());
    expect(v).toEqual({ userId: "alice", items: [item] });
  });

  it.each([
    ["empty user_id", req({ userId: "" }), "user_id"],
    ["129-char user_id", req({ userId: "u".repeat(129) }), "user_id"],
    ["user_id with a wildcard", req({ userId: "a*" }), "user_id"],
    ["no items", req({ items: [] }), "items"],
    ["1001 items", req({ items: Array.from({ length: 1001 }, () => item) }), "items"],
    ["empty product_id", req({ items: [item, { ...item, productId: "" }] }), "items[1].product_id"],
    ["quantity 0", req({ items: [{ ...item, quantity: 0 }] }), "items[0].quantity"],
    ["quantity 1.5", req({ items: [{ ...item, quantity: 1.5 }] }), "items[0].quantity"],
    ["quantity 1000001", req({ items: [{ ...item, quantity: 1_000_001 }] }), "items[0].quantity"],
    ["price -1", req({ items: [{ ...item, price: -1 }] }), "items[0].price"],
    ["price NaN", req({ items: [{ ...item, price: Number.NaN }] }), "items[0].price"],
    ["price Infinity", req({ items: [{ ...item, price: Number.POSITIVE_INFINITY }] }), "items[0].price"],
    ["price over 1e9", req({ items: [{ ...item, price: 1e9 + 1 }] }), "items[0].price"],
  ])("rejects %s naming the field", (_name, r, field) => {
    expect(fieldOf(r)).toBe(field);
  });

  it("accepts the boundary values", () => {
    expect(() =>
      validateCreateOrder(
        req({
          userId: "u".repeat(128),
          items: Array.from({ length: 1000 }, () => ({ productId: "p", quantity: 1_000_000, price: 1e9 })),
        }),
      ),
    ).not.toThrow();
    expect(() => validateCreateOrder(req({ items: [{ productId: "p", quantity: 1, price: 0 }] }))).not.toThrow();
  });
});
