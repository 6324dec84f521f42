import type { ErrorCode } from "./error-codes.js";
import type {
  ConnectedFrame,
  ErrorFrame,
  OrderAction,
  ProcessOrderResultFrame,
  RefreshedFrame,
  SubscribedFrame,
  UnsubscribedFrame,
} from "./frames.js";
import type { RequestId } from "./request-id.js";

/** The id field of a reply, present only when the request had one (the request id goes last). */
const withId = <T extends object>(frame: T, id: RequestId | undefined): T => (id === undefined ? frame : { ...frame, id });

/** The `connected` reply text. */
export function connectedFrame(user: string, exp: number | undefined, id?: RequestId): string {
  const f: ConnectedFrame = { type: "connected", user, exp: exp ?? null };
  return JSON.stringify(withId(f, id));
}

/** The `subscribed` reply text. */
export function subscribedFrame(channels: string[], recovered: boolean, offsets: Record<string, string>, id?: RequestId): string {
  const f: SubscribedFrame = { type: "subscribed", channels, recovered, offsets };
  return JSON.stringify(withId(f, id));
}

/** The `unsubscribed` reply text. */
export function unsubscribedFrame(channels: string[], id?: RequestId): string {
  const f: UnsubscribedFrame = { type: "unsubscribed", channels };
  return JSON.stringify(withId(f, id));
}

/** The `refreshed` reply text. */
export function refreshedFrame(exp: number | undefined, id?: RequestId): string {
  const f: RefreshedFrame = { type: "refreshed", exp: exp ?? null };
  return JSON.stringify(withId(f, id));
}

/** The `process_order.result` reply text (empty `error_code` / `message` are left out). */
export function processOrderResultFrame(r: Omit<ProcessOrderResultFrame, "type" | "id">, id?: RequestId): string {
  const f: ProcessOrderResultFrame = { type: "process_order.result", order_id: r.order_id, status: r.status };
  if (r.error_code) f.error_code = r.error_code;
  if (r.message) f.message = r.message;
  return JSON.stringify(withId(f, id));
}

/** The `error` frame text. */
export function errorFrame(code: ErrorCode, message: string, id?: RequestId): string {
  const f: ErrorFrame = { type: "error", error: { code, message } };
  return JSON.stringify(withId(f, id));
}

/** The `connect` frame text. */
export function connectFrame(token: string, id?: RequestId): string {
  return JSON.stringify(withId({ type: "connect", token }, id));
}

/** The `subscribe` frame text; `since` lists the channels to resume (left out when empty). */
export function subscribeFrame(channels: string[], since: Record<string, string>, id?: RequestId): string {
  const f = Object.keys(since).length > 0 ? { type: "subscribe", channels, since } : { type: "subscribe", channels };
  return JSON.stringify(withId(f, id));
}

/** The `unsubscribe` frame text. */
export function unsubscribeFrame(channels: string[], id?: RequestId): string {
  return JSON.stringify(withId({ type: "unsubscribe", channels }, id));
}

/** The `refresh` frame text: a new token for the open socket. */
export function refreshFrame(token: string, id?: RequestId): string {
  return JSON.stringify(withId({ type: "refresh", token }, id));
}

/** The `process_order` frame text. */
export function processOrderFrame(orderId: string, action: OrderAction | undefined, timestamp: number, id?: RequestId): string {
  const f = action
    ? { type: "process_order", order_id: orderId, timestamp, action }
    : { type: "process_order", order_id: orderId, timestamp };
  return JSON.stringify(withId(f, id));
}
