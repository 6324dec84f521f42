import {
  ADMIN_CLIENT_FRAME_TYPES,
  ADMIN_SERVER_FRAME_TYPES,
  type AdminDisconnectFrame,
  type AdminDisconnectResultFrame,
  type AdminNodesFrame,
  type AdminNodesResultFrame,
  type AdminUserSocketsFrame,
  type AdminUserSocketsResultFrame,
} from "./admin-frames.js";
import type { ActionErrorCode, ErrorCode } from "./error-codes.js";
import type { EventFrame } from "./event-frame.js";
import type { RequestId } from "./request-id.js";

/** The WebSocket subprotocol of this protocol version; the edge answers it when a client offers it. */
export const SUBPROTOCOL = "orderstream.v1";

/** Frame types a client sends. */
export const CLIENT_FRAME_TYPES = ["connect", "subscribe", "unsubscribe", "process_order", "refresh", ...ADMIN_CLIENT_FRAME_TYPES] as const;

/** Frame types the edge sends. */
export const SERVER_FRAME_TYPES = [
  "connected",
  "subscribed",
  "unsubscribed",
  "order.created",
  "order.status",
  "process_order.result",
  "refreshed",
  "error",
  ...ADMIN_SERVER_FRAME_TYPES,
] as const;

/** A client frame type. */
export type ClientFrameType = (typeof CLIENT_FRAME_TYPES)[number];
/** A server frame type. */
export type ServerFrameType = (typeof SERVER_FRAME_TYPES)[number];

/** Actions of `process_order` (the order state machine's transitions; `retry` a FAILED order, admins only); none = `process`. */
export const ORDER_ACTIONS = ["confirm", "process", "ship", "deliver", "cancel", "retry"] as const;
/** An action of `process_order`. */
export type OrderAction = (typeof ORDER_ACTIONS)[number];

/** The longest token a `connect` or `refresh` frame may carry. */
export const MAX_TOKEN_LENGTH = 8192;
/** The longest order id a `process_order` frame may carry. */
export const MAX_ORDER_ID_LENGTH = 128;

/** What every client frame may carry: a request id echoed on its replies. */
interface Request {
  id?: RequestId;
}

/** `connect`: the token, as the first frame (never in the URL). Answered `connected`, or closed 4001. */
export interface ConnectFrame extends Request {
  type: "connect";
  token: string;
}
/** `subscribe`: channels to join, with `since` offsets for those to resume. Answered `subscribed` or `error`. */
export interface SubscribeFrame extends Request {
  type: "subscribe";
  channels: string[];
  since?: Record<string, string>;
}
/** `unsubscribe`: channels to leave. Answered `unsubscribed` (or `error` for a bad name). */
export interface UnsubscribeFrame extends Request {
  type: "unsubscribe";
  channels: string[];
}
/** `process_order`: apply an action to an order (the order's owner or an admin). Answered `process_order.result` or `error`. */
export interface ProcessOrderFrame extends Request {
  type: "process_order";
  order_id: string;
  action?: OrderAction;
  /** Client time in epoch ms (the origin article sends it; the edge ignores it). */
  timestamp?: number;
}
/** `refresh`: a new token for the same `sub` on the open socket. Answered `refreshed` or `error` `invalid_token`. */
export interface RefreshFrame extends Request {
  type: "refresh";
  token: string;
}
/** Any client frame. */
export type ClientFrame =
  | ConnectFrame
  | SubscribeFrame
  | UnsubscribeFrame
  | ProcessOrderFrame
  | RefreshFrame
  | AdminNodesFrame
  | AdminUserSocketsFrame
  | AdminDisconnectFrame;

/** What every reply carries: the id of the frame it answers, when that frame had one. */
interface Reply {
  id?: RequestId;
}

/** `connected`: the `connect` token verified; `user` is its `sub`, `exp` its expiry (epoch s, null: none). */
export interface ConnectedFrame extends Reply {
  type: "connected";
  user: string;
  exp: number | null;
}
/** `subscribed`: every channel joined; `recovered` false when a `since` could not be honoured; `offsets` to resume from. */
export interface SubscribedFrame extends Reply {
  type: "subscribed";
  channels: string[];
  recovered: boolean;
  offsets: Record<string, string>;
}
/** `unsubscribed`: the channels were left. */
export interface UnsubscribedFrame extends Reply {
  type: "unsubscribed";
  channels: string[];
}
/** `process_order.result`: the order's status after the action; `error_code` when it was refused. */
export interface ProcessOrderResultFrame extends Reply {
  type: "process_order.result";
  order_id: string;
  status: string;
  error_code?: ActionErrorCode;
  message?: string;
}
/** `refreshed`: the socket's token was replaced; `exp` is the new expiry (epoch s, null: none). */
export interface RefreshedFrame extends Reply {
  type: "refreshed";
  exp: number | null;
}
/** `error`: a frame was refused; the socket stays open. */
export interface ErrorFrame extends Reply {
  type: "error";
  error: { code: ErrorCode; message: string };
}
/** Any server frame. */
export type ServerFrame =
  | ConnectedFrame
  | SubscribedFrame
  | UnsubscribedFrame
  | EventFrame
  | ProcessOrderResultFrame
  | RefreshedFrame
  | ErrorFrame
  | AdminNodesResultFrame
  | AdminUserSocketsResultFrame
  | AdminDisconnectResultFrame;
