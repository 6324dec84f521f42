import { describe, expect, it } from "vitest";
import { orderTotal } from "./order-total.js";

describe("orderTotal", () => {
  it("adds without float drift", () => {
    expect(orderTotal([{ productId: "a", quantity: 1, price: 0.1 }, { productId: "b", quantity: 1, price: 0.2 }])).toBe(0.3);
    expect(orderTotal([{ productId: "a", quantity: 3, price: 19.99 }])).toBe(59.97);
  });

  it("stays exact for the largest allowed order", () => {
    const items = Array.from({ length: 1000 }, () => ({ productId: "p", quantity: 1_000_000, price: 1e9 }));
    expect(orderTotal(items)).toBe(1e18);
  });

  it("is zero for free items", () => {
    expect(orderTotal([{ productId: "a", quantity: 5, price: 0 }])).toBe(0);
  });
});
