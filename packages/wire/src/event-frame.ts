/** The two event types the edge pushes (and the write path builds). */
export const EVENT_TYPES = ["order.created", "order.status"] as const;

/** An event type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Order status names as they travel in proto3 JSON. */
export type OrderStatusName = "PENDING" | "CONFIRMED" | "PROCESSING" | "SHIPPED" | "DELIVERED" | "CANCELLED" | "FAILED";

/** Every order status name, in lifecycle order. */
export const ORDER_STATUS_NAMES: readonly OrderStatusName[] = [
  "PENDING",
  "CONFIRMED",
  "PROCESSING",
  "SHIPPED",
  "DELIVERED",
  "CANCELLED",
  "FAILED",
];

/** Longest note a workflow step may attach to an order's event (characters). */
export const MAX_NOTE_LENGTH = 200;

/** One line of an order, proto3 JSON form. */
export interface LineItemJson {
  productId: string;
  quantity: number;
  price: number;
}

/** The proto3 JSON form of an Order (lowerCamelCase fields, enum names, RFC 3339 time), as carried in event frames. */
export interface OrderJson {
  id: string;
  userId: string;
  items: LineItemJson[];
  total: number;
  status: OrderStatusName | (string & {});
  /** RFC 3339 time. */
  createdAt: string;
  /** Why the order is FAILED (on FAILED orders only). */
  statusReason?: string;
  /** The note a workflow step attached to this change (on that change's event only). */
  note?: string;
}

/** An event frame, parsed. */
export interface EventFrame {
  type: EventType;
  channel: string;
  /** Where the event sits in the channel's history; resume from the last one received. */
  offset: string;
  data: OrderJson;
}

/**
 * An event frame as the edge sends it, byte for byte: `{"type":…,"channel":…,"offset":…,"data":…}`
 * with `dataJson` (the order's JSON text) appended unchanged. The write path's script builds the
 * same bytes once per event and the edge forwards them as they are; tests hold it to this template.
 * `channel` and `offset` need no escaping (their alphabets have no `"` or `\`).
 */
export function eventFrameText(type: EventType, channel: string, offset: string, dataJson: string): string {
  return `{"type":"${type}","channel":"${channel}","offset":"${offset}","data":${dataJson}}`;
}

/** Parses an event frame text; throws on anything that is not one. */
export function parseEventFrame(text: string): EventFrame {
  const frame = JSON.parse(text) as EventFrame;
  if (frame === null || typeof frame !== "object" || !(EVENT_TYPES as readonly string[]).includes(frame.type))
    throw new Error("not an event frame");
  return frame;
}
