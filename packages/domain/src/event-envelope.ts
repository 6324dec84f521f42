import type { Order } from "@orderstream/proto";
import type { EventType, OrderJson } from "@orderstream/wire";
import { CHANNEL_CREATED, CHANNEL_STATUS, userChannel } from "./channels.js";
import { parseStatus, statusName } from "./order-status.js";

/** The event types and frame shapes are the wire protocol's (packages/wire), re-exported for the write path. */
export type { EventFrame, EventType, OrderJson } from "@orderstream/wire";

/** The channels an event about `order` is appended to: the all-orders one and the user's. */
export function channelsFor(type: EventType, userId: string): [string, string] {
  return [type === "order.created" ? CHANNEL_CREATED : CHANNEL_STATUS, userChannel(userId)];
}

/**
 * The order's static part as a JSON object text without its closing brace and without status.
 * Stored once in Redis; the event script appends `,"status":"X"}` to it, so a status change needs
 * no JSON parsing inside Redis and the order is serialized once per event, not per subscriber.
 */
export function orderJsonPrefix(order: Order): string {
  const full = JSON.stringify({
    id: order.id,
    userId: order.userId,
    items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity, price: i.price })),
    total: order.total,
    createdAt: (order.createdAt ?? new Date(0)).toISOString(),
  });
  return full.slice(0, -1);
}

/** Completes {@link orderJsonPrefix} with a status into the order's JSON text. */
export function orderJsonWithStatus(prefix: string, status: string): string {
  return `${prefix},"status":"${status}"}`;
}

/** The proto3 JSON form of an Order. */
export function orderToJson(order: Order): OrderJson {
  return JSON.parse(orderJsonWithStatus(orderJsonPrefix(order), statusName(order.status))) as OrderJson;
}

/** An Order message from its proto3 JSON form (as carried in event frames). */
export function orderFromJson(json: OrderJson): Order {
  const status = parseStatus(json.status);
  if (status === undefined) throw new Error(`unknown order status ${json.status}`);
  return {
    id: json.id,
    userId: json.userId,
    items: json.items.map((i) => ({ productId: i.productId, quantity: i.quantity, price: i.price })),
    total: json.total,
    status,
    createdAt: new Date(json.createdAt),
    eventOffset: "",
    statusReason: json.statusReason ?? "",
    note: json.note ?? "",
  };
}
