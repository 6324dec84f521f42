import { type EventFrame, type OrderAction, type RequestId, isErrorCode, isRequestId } from "@orderstream/wire";

export type { LineItemJson, OrderAction, OrderJson, OrderStatusName } from "@orderstream/wire";

/** An event on a channel, as handed to a subscription (the event frame, parsed). */
export type OrderEvent = EventFrame;

/** The two event types the edge pushes. */
export type OrderEventType = EventFrame["type"];

/** What a `process_order` came to. `errorCode` is set when the server refused the action. */
export interface ProcessOrderResult {
  orderId: string;
  /** The order's status name after the action (the current one when refused; "" when unknown). */
  status: string;
  /** `not_found`, `invalid_transition`, `invalid_argument`, `unavailable`, …; absent = success. */
  errorCode?: string;
  message?: string;
}

/** A frame the edge sends, parsed and checked; `id` is the request id a reply answers. */
export type ServerFrame =
  | OrderEvent
  | { type: "connected"; user: string; exp: number | undefined; id: RequestId | undefined }
  | { type: "subscribed"; channels: string[]; recovered: boolean; offsets: Record<string, string>; id: RequestId | undefined }
  | { type: "unsubscribed"; channels: string[]; id: RequestId | undefined }
  | { type: "process_order.result"; result: ProcessOrderResult; id: RequestId | undefined }
  | { type: "refreshed"; exp: number | undefined; id: RequestId | undefined }
  | { type: "error"; code: string; message: string; id: RequestId | undefined };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

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
  const id = isRequestId(raw["id"]) ? raw["id"] : undefined;
  switch (raw["type"]) {
    case "order.created":
    case "order.status": {
      const { channel, offset, data } = raw;
      if (typeof channel !== "string" || typeof offset !== "string" || !isObj(data)) return undefined;
      return { type: raw["type"], channel, offset, data: data as unknown as OrderEvent["data"] };
    }
    case "connected":
      return { type: "connected", user: str(raw["user"]), exp: num(raw["exp"]), id };
    case "subscribed":
      if (!isStrings(raw["channels"])) return undefined;
      return { type: "subscribed", channels: raw["channels"], recovered: raw["recovered"] !== false, offsets: stringMap(raw["offsets"]), id };
    case "unsubscribed":
      return { type: "unsubscribed", channels: isStrings(raw["channels"]) ? raw["channels"] : [], id };
    case "process_order.result": {
      const orderId = raw["order_id"];
      if (typeof orderId !== "string") return undefined;
      const result: ProcessOrderResult = { orderId, status: str(raw["status"]) };
      if (str(raw["error_code"])) result.errorCode = str(raw["error_code"]);
      if (str(raw["message"])) result.message = str(raw["message"]);
      return { type: "process_order.result", result, id };
    }
    case "refreshed":
      return { type: "refreshed", exp: num(raw["exp"]), id };
    case "error": {
      const e = raw["error"];
      if (!isObj(e) || !isErrorCode(e["code"])) return undefined;
      return { type: "error", code: e["code"], message: str(e["message"]), id };
    }
    default:
      return undefined;
  }
}

/** Whether `a` is an order action name. */
export function isOrderAction(a: unknown): a is OrderAction {
  return a === "confirm" || a === "process" || a === "ship" || a === "deliver" || a === "cancel" || a === "retry";
}
