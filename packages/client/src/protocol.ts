/** Actions `processOrder` may ask for (the order state machine's transitions). */
export type OrderAction = "confirm" | "process" | "ship" | "deliver" | "cancel";

/** Order status names as they travel in proto3 JSON. */
export type OrderStatusName = "PENDING" | "CONFIRMED" | "PROCESSING" | "SHIPPED" | "DELIVERED" | "CANCELLED";

/** One line of an order, proto3 JSON form. */
export interface LineItemJson {
  productId: string;
  quantity: number;
  price: number;
}

/** The proto3 JSON form of an Order, as carried in event frames (same shape as @orderstream/domain's). */
export interface OrderJson {
  id: string;
  userId: string;
  items: LineItemJson[];
  total: number;
  status: OrderStatusName | (string & {});
  /** RFC 3339 time. */
  createdAt: string;
}

/** The two event types the edge pushes. */
export type OrderEventType = "order.created" | "order.status";

/** An event on a channel, as handed to a `subscribe` handler. */
export interface OrderEvent {
  type: OrderEventType;
  channel: string;
  /** `<epoch>:<seq>`; the SDK resumes from the last one it delivered. */
  offset: string;
  data: OrderJson;
}

/** What a `process_order` came to. `errorCode` is set when the server refused the action. */
export interface ProcessOrderResult {
  orderId: string;
  /** The order's status name after the action (the current one when refused; "" when unknown). */
  status: string;
  /** `not_found`, `invalid_transition`, `invalid_argument`, `unavailable`, ...; absent = success. */
  errorCode?: string;
  message?: string;
}

/** A frame the edge sends, parsed and checked. */
export type ServerFrame =
  | OrderEvent
  | { type: "subscribed"; channels: string[]; recovered: boolean; offsets: Record<string, string> }
  | { type: "unsubscribed"; channels: string[] }
  | { type: "process_order.result"; result: ProcessOrderResult }
  | { type: "refreshed"; exp: number | undefined }
  | { type: "error"; code: string; message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/** Parses one text frame from the edge; undefined for anything that is not a known, well-formed frame. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(raw)) return undefined;
  switch (raw["type"]) {
    case "order.created":
    case "order.status": {
      const { channel, offset, data } = raw;
      if (typeof channel !== "string" || typeof offset !== "string" || !isObj(data)) return undefined;
      return { type: raw["type"], channel, offset, data: data as unknown as OrderJson };
    }
    case "subscribed":
      if (!isStrings(raw["channels"])) return undefined;
      return { type: "subscribed", channels: raw["channels"], recovered: raw["recovered"] !== false, offsets: stringMap(raw["offsets"]) };
    case "unsubscribed":
      return { type: "unsubscribed", channels: isStrings(raw["channels"]) ? raw["channels"] : [] };
    case "process_order.result": {
      const orderId = raw["order_id"];
      if (typeof orderId !== "string") return undefined;
      const result: ProcessOrderResult = { orderId, status: typeof raw["status"] === "string" ? raw["status"] : "" };
      if (typeof raw["error_code"] === "string" && raw["error_code"] !== "") result.errorCode = raw["error_code"];
      if (typeof raw["message"] === "string" && raw["message"] !== "") result.message = raw["message"];
      return { type: "process_order.result", result };
    }
    case "refreshed":
      return { type: "refreshed", exp: typeof raw["exp"] === "number" ? raw["exp"] : undefined };
    case "error": {
      const e = raw["error"];
      if (!isObj(e) || typeof e["code"] !== "string") return undefined;
      return { type: "error", code: e["code"], message: typeof e["message"] === "string" ? e["message"] : "" };
    }
    default:
      return undefined;
  }
}

/** The `subscribe` frame text; `since` lists the channels to resume. */
export function subscribeFrame(channels: string[], since: Record<string, string>): string {
  return JSON.stringify(Object.keys(since).length > 0 ? { type: "subscribe", channels, since } : { type: "subscribe", channels });
}

/** The `unsubscribe` frame text. */
export function unsubscribeFrame(channels: string[]): string {
  return JSON.stringify({ type: "unsubscribe", channels });
}

/** The `refresh` frame text: a new token for the open socket. */
export function refreshFrame(token: string): string {
  return JSON.stringify({ type: "refresh", token });
}

/** The `process_order` frame text. */
export function processOrderFrame(orderId: string, action: OrderAction | undefined, timestamp: number): string {
  return JSON.stringify(action ? { type: "process_order", order_id: orderId, timestamp, action } : { type: "process_order", order_id: orderId, timestamp });
}
