import { CLOSE_CODE_TABLE } from "@orderstream/wire";
import { type AdminDeps, handleAdmin } from "./admin-requests.js";
import { type ConnectDeps, closeUnauthorized, connect, keepEarly } from "./connect-handler.js";
import type { OrderActions } from "./order-actions.js";
import { type ClientMessage, parseClientMessage, processOrderResult } from "./protocol.js";
import { type RateLimit, firstRefusal } from "./rate-limiter.js";
import { AUTH, type EdgeSocket } from "./socket-state.js";
import { type SubscriptionDeps, sendError, subscribe, unsubscribe } from "./subscriptions.js";
import { refreshToken } from "./token-refresh.js";

/** What the message handler needs from the node. */
export interface MessageDeps extends SubscriptionDeps, ConnectDeps, AdminDeps {
  actions: OrderActions;
  /** The inbound frame limit; its bucket lives in each socket's state. */
  rate: RateLimit;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * One inbound frame: rate limit, decode, then {@link handleText}. Bad input gets an `error` frame
 * and never throws out of here; a client that keeps flooding is closed with 4008, binary frames
 * with 4400.
 */
export function handleMessage(ws: EdgeSocket, deps: MessageDeps, data: ArrayBuffer, isBinary: boolean): void {
  const st = ws.getUserData();
  deps.metrics.messagesIn.inc();
  const verdict = deps.rate.take(st);
  if (verdict === "close") {
    deps.metrics.errors.inc({ code: "rate_limited" });
    const c = CLOSE_CODE_TABLE.rateLimited;
    ws.end(c.code, c.reason);
    return;
  }
  if (verdict === "limited") {
    if (firstRefusal(st)) sendError(ws, deps, "rate_limited", "too many messages, slow down");
    return;
  }
  if (isBinary) {
    const c = CLOSE_CODE_TABLE.badRequest;
    deps.metrics.errors.inc({ code: "bad_request" });
    ws.end(c.code, c.reason);
    return;
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    sendError(ws, deps, "bad_request", "frame is not valid UTF-8");
    return;
  }
  handleText(ws, deps, text);
}

/**
 * One text frame, in the socket's auth stage: while a `connect` is verified, frames wait for it;
 * before a socket without a token has connected (anonymous access off), anything but `connect`
 * closes it with 4001 (a malformed `connect` gets a `bad_request` error and may be sent again).
 */
function handleText(ws: EdgeSocket, deps: MessageDeps, text: string): void {
  const st = ws.getUserData();
  if (st.auth === AUTH.connecting) {
    if (!keepEarly(ws, text)) sendError(ws, deps, "bad_request", "too many frames before connected: wait for the connected reply");
    return;
  }
  const parsed = parseClientMessage(text);
  if (st.auth === AUTH.awaiting && (parsed.ok ? parsed.msg.type !== "connect" : parsed.type !== "connect")) {
    closeUnauthorized(ws, deps);
    return;
  }
  if (!parsed.ok) {
    sendError(ws, deps, parsed.error.code, parsed.error.message, parsed.error.id);
    return;
  }
  dispatch(ws, deps, parsed.msg);
}

function dispatch(ws: EdgeSocket, deps: MessageDeps, msg: ClientMessage): void {
  const st = ws.getUserData();
  switch (msg.type) {
    case "connect":
      connect(ws, deps, msg.token, msg.id, (text) => handleText(ws, deps, text));
      return;
    case "subscribe":
      subscribe(ws, deps, msg.channels, msg.since, msg.id).catch((err: unknown) => {
        deps.log.error({ err, socket: st.id }, "subscribe crashed");
        if (!st.closed) sendError(ws, deps, "internal", "internal error", msg.id);
      });
      return;
    case "unsubscribe":
      unsubscribe(ws, deps, msg.channels, msg.id);
      return;
    case "process_order":
      deps.actions.process(st.who, msg.orderId, msg.action).then(
        (r) => {
          if (st.closed) return;
          if (r.errorCode === "forbidden") sendError(ws, deps, "forbidden", `not allowed to act on order ${msg.orderId}`, msg.id);
          else deps.out.send(ws, processOrderResult(r, msg.id));
        },
        (err: unknown) => {
          deps.log.error({ err, socket: st.id }, "process_order crashed");
          if (!st.closed) sendError(ws, deps, "internal", "internal error", msg.id);
        },
      );
      return;
    case "refresh":
      refreshToken(ws, deps, msg.token, msg.id);
      return;
    case "admin.nodes":
    case "admin.user_sockets":
    case "admin.disconnect":
      handleAdmin(ws, deps, msg);
      return;
  }
}
