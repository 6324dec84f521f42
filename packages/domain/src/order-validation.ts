import type { CreateOrderRequest, LineItem } from "@orderstream/proto";
import { ValidationError } from "./validation-error.js";

/** Limits on a CreateOrderRequest; exported so clients and docs quote the same numbers. */
export const ORDER_LIMITS = {
  maxUserIdLength: 128,
  maxProductIdLength: 128,
  minItems: 1,
  maxItems: 1000,
  minQuantity: 1,
  maxQuantity: 1_000_000,
  minPrice: 0,
  maxPrice: 1e9,
} as const;

/** A CreateOrderRequest that passed validation. */
export interface ValidOrderRequest {
  userId: string;
  items: LineItem[];
}

/**
 * Checks a CreateOrderRequest against {@link ORDER_LIMITS}; throws a {@link ValidationError}
 * naming the first offending field, so the caller can answer INVALID_ARGUMENT with it.
 */
export function validateCreateOrder(req: CreateOrderRequest): ValidOrderRequest {
  const userId = req.userId;
  if (typeof userId !== "string" || userId.length === 0) throw new ValidationError("user_id", "must not be empty");
  if (userId.length > ORDER_LIMITS.maxUserIdLength)
    throw new ValidationError("user_id", `must be at most ${ORDER_LIMITS.maxUserIdLength} characters`);
  if (!/^[A-Za-z0-9_\-:@.]+$/.test(userId))
    throw new ValidationError("user_id", "may contain only letters, digits and _ - : @ .");
  const items = req.items ?? [];
  if (items.length < ORDER_LIMITS.minItems) throw new ValidationError("items", "must contain at least 1 item");
  if (items.length > ORDER_LIMITS.maxItems)
    throw new ValidationError("items", `must contain at most ${ORDER_LIMITS.maxItems} items`);
  items.forEach(validateItem);
  return { userId, items: items.map((i) => ({ productId: i.productId, quantity: i.quantity, price: i.price })) };
}

function validateItem(item: LineItem, i: number): void {
  const at = `items[${i}]`;
  if (typeof item.productId !== "string" || item.productId.length === 0)
    throw new ValidationError(`${at}.product_id`, "must not be empty");
  if (item.productId.length > ORDER_LIMITS.maxProductIdLength)
    throw new ValidationError(`${at}.product_id`, `must be at most ${ORDER_LIMITS.maxProductIdLength} characters`);
  const q = item.quantity;
  if (!Number.isInteger(q) || q < ORDER_LIMITS.minQuantity || q > ORDER_LIMITS.maxQuantity)
    throw new ValidationError(
      `${at}.quantity`,
      `must be an integer from ${ORDER_LIMITS.minQuantity} to ${ORDER_LIMITS.maxQuantity}`,
    );
  const p = item.price;
  if (typeof p !== "number" || !Number.isFinite(p) || p < ORDER_LIMITS.minPrice || p > ORDER_LIMITS.maxPrice)
    throw new ValidationError(`${at}.price`, `must be a finite number from ${ORDER_LIMITS.minPrice} to ${ORDER_LIMITS.maxPrice}`);
}
