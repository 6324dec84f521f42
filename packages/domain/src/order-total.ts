import type { LineItem } from "@orderstream/proto";

const SCALE = 1_000_000n;

/**
 * The order total, computed exactly: prices are taken to micro-units (6 decimals), summed as
 * BigInt, and turned back into the nearest double, so 0.1 + 0.2 is 0.3 and large orders do not
 * drift.
 */
export function orderTotal(items: readonly LineItem[]): number {
  let sum = 0n;
  for (const item of items) {
    const micros = BigInt(Math.round(item.price * 1e6));
    sum += micros * BigInt(item.quantity);
  }
  const whole = sum / SCALE;
  const frac = (sum % SCALE).toString().padStart(6, "0");
  return Number(`${whole}.${frac}`);
}
