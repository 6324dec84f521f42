import { OrderStatus } from "@orderstream/proto";

/**
 * The actions that move an order: a client's (ProcessOrders, the WebSocket `process_order`; `retry`
 * is an admin's) and `fail`, which only the processor applies when a workflow step fails for good.
 */
export type OrderActionName = "confirm" | "process" | "ship" | "deliver" | "cancel" | "retry" | "fail";

/** One row of the state machine: the statuses an action applies to, and where it leads. */
export interface Transition {
  readonly from: readonly OrderStatus[];
  /** Where it leads; for `retry`, FAILED stands for "the status the order failed in". */
  readonly to: OrderStatus;
}

/**
 * The order state machine as one table. Every status change in the system is one of these rows,
 * applied as a compare-and-set in Redis, so an illegal move (DELIVERED -> CANCELLED) is refused.
 */
export const TRANSITIONS: Readonly<Record<OrderActionName, Transition>> = {
  confirm: { from: [OrderStatus.PENDING], to: OrderStatus.CONFIRMED },
  process: { from: [OrderStatus.CONFIRMED], to: OrderStatus.PROCESSING },
  ship: { from: [OrderStatus.PROCESSING], to: OrderStatus.SHIPPED },
  deliver: { from: [OrderStatus.SHIPPED], to: OrderStatus.DELIVERED },
  cancel: { from: [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.FAILED], to: OrderStatus.CANCELLED },
  retry: { from: [OrderStatus.FAILED], to: OrderStatus.FAILED },
  fail: { from: [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED], to: OrderStatus.FAILED },
};

/** True for the actions a client may ask for (every one but the processor's `fail`). */
export function isOrderAction(name: string): name is OrderActionName {
  return Object.hasOwn(TRANSITIONS, name) && name !== "fail";
}

/** Actions only an admin may ask for: `retry` of a FAILED order. */
export function isAdminAction(name: OrderActionName): boolean {
  return name === "retry";
}

/** Whether `action` may be applied to an order currently in `status`. */
export function canApply(action: OrderActionName, status: OrderStatus): boolean {
  return TRANSITIONS[action].from.includes(status);
}

/** Statuses no action leads away from. */
export function isTerminal(status: OrderStatus): boolean {
  return status === OrderStatus.DELIVERED || status === OrderStatus.CANCELLED;
}

const NAMES: Record<string, OrderStatus> = {
  PENDING: OrderStatus.PENDING,
  CONFIRMED: OrderStatus.CONFIRMED,
  PROCESSING: OrderStatus.PROCESSING,
  SHIPPED: OrderStatus.SHIPPED,
  DELIVERED: OrderStatus.DELIVERED,
  CANCELLED: OrderStatus.CANCELLED,
  FAILED: OrderStatus.FAILED,
};

/** The enum name of a status, as used in proto3 JSON and in Redis (`"CONFIRMED"`). */
export function statusName(status: OrderStatus): string {
  const name = OrderStatus[status];
  if (typeof name !== "string" || !(name in NAMES)) throw new Error(`unknown order status ${String(status)}`);
  return name;
}

/** Parses a status name (case-insensitive); undefined for anything else. */
export function parseStatus(name: string): OrderStatus | undefined {
  return NAMES[name.toUpperCase()];
}
