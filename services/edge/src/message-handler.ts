import { CLOSE_CODES } from "./close-codes.js";
import type { OrderActions } from "./order-actions.js";
import { parseClientMessage, processOrderResultFrame } from "./protocol.js";
import { type RateLimit, firstRefusal } from "./rate-limiter.js";
import type { EdgeSocket } from "./socket-state.js";
import { type SubscriptionDeps, sendError, subscribe, unsubscribe } from "./subscriptions.js";
import { type RefreshDeps, refreshToken } from "./token-refresh.js";

/** What the message handler needs from the node. */
export interface MessageDeps extends SubscriptionDeps, RefreshDeps {
  actions: OrderActions;
  /** The inbound frame limit; its bucket lives in each socket's state. */
  rate: RateLimit;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * One inbound frame: rate limit, parse, dispatch. Bad input gets an `error` frame and never
 * throws out of here; a client that keeps flooding is closed with 4008, binary frames with 4400.
 */
export function handleMessage(ws: EdgeSocket, deps: MessageDeps, data: ArrayBuffer, isBinary: boolean): void {
  const st = ws.getUserData();
  deps.metrics.messagesIn.inc();
  const verdict = deps.rate.take(st);
  if (verdict === "close") {
    deps.metrics.errors.inc({ code: "rate_limited" });
    const c = CLOSE_CODES.noReconnect.rateLimited;
    ws.end(c.code, c.reason);
    return;
  }
  if (verdict === "limited") {
    if (firstRefusal(st)) sendError(ws, deps.metrics, "rate_limited", "too many messages, slow down");
    return;
  }
  if (isBinary) {
    const c = CLOSE_CODES.noReconnect.badRequest;
    deps.metrics.errors.inc({ code: "bad_request" });
    ws.end(c.code, c.reason);
    return;
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    sendError(ws, deps.metrics, "bad_request", "frame is not valid UTF-8");
    return;
  }
  const parsed = parseClientMessage(text);
  if (!parsed.ok) {
    sendError(ws, deps.metrics, parsed.error.code, parsed.error.message);
    return;
  }
  const msg = parsed.msg;
  switch (msg.type) {
    case "subscribe":
      subscribe(ws, deps, msg.channels, msg.since).catch((err: unknown) => {
        deps.log.error({ err, socket: st.id }, "subscribe crashed");
        if (!st.closed) sendError(ws, deps.metrics, "internal", "internal error");
      });
      return;
    case "unsubscribe":
      unsubscribe(ws, deps, msg.channels);
      return;
    case "process_order":
      deps.actions.process(st.who, msg.orderId, msg.action).then(
        (r) => {
          if (st.closed) return;
          if (r.errorCode === "forbidden") sendError(ws, deps.metrics, "forbidden", `not allowed to act on order ${msg.orderId}`);
          else ws.send(processOrderResultFrame(r), false);
        },
        (err: unknown) => {
          deps.log.error({ err, socket: st.id }, "process_order crashed");
          if (!st.closed) sendError(ws, deps.metrics, "internal", "internal error");
        },
      );
      return;
    case "refresh":
      refreshToken(ws, deps, msg.token);
      return;
  }
}
