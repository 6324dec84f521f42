import { EMPTY_CHANNEL_OFFSET, type ErrorCode, OFFSET_PATTERN } from "@orderstream/client";

/** Error codes of `error` frames (snake_case, DESIGN.md), from the wire contract. */
export type { ErrorCode };

/** A client frame that passed the protocol checks. */
export type ClientMessage =
  | { type: "subscribe"; channels: string[]; since: Map<string, string> }
  | { type: "unsubscribe"; channels: string[] }
  | { type: "process_order"; orderId: string; action: string }
  | { type: "refresh"; token: string };

/** A client frame that did not: answered with an error frame of this code. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

/** Result of {@link parseClientMessage}. */
export type Parsed = { ok: true; msg: ClientMessage } | { ok: false; error: ProtocolError };

/** The longest token a `refresh` frame may carry. */
const MAX_TOKEN_LENGTH = 8192;

const bad = (code: ErrorCode, message: string): Parsed => ({ ok: false, error: { code, message } });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses one text frame of the client protocol (subscribe / unsubscribe / process_order / refresh).
 * Channel names are checked later (per channel); here only shapes and types.
 */
export function parseClientMessage(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad("bad_request", "frame is not valid JSON");
  }
  if (!isObject(raw)) return bad("bad_request", "frame must be a JSON object");
  const type = raw["type"];
  if (typeof type !== "string") return bad("bad_request", "field type must be a string");
  switch (type) {
    case "subscribe":
    case "unsubscribe": {
      const channels = raw["channels"];
      if (!Array.isArray(channels)) return bad("bad_request", "field channels must be an array");
      if (channels.some((c) => typeof c !== "string")) return bad("bad_channel", "channel names must be strings");
      if (type === "unsubscribe") return { ok: true, msg: { type, channels: channels as string[] } };
      const sinceRaw = raw["since"];
      const since = new Map<string, string>();
      if (sinceRaw !== undefined && sinceRaw !== null) {
        if (!isObject(sinceRaw)) return bad("bad_request", "field since must be an object of channel -> offset");
        for (const [ch, off] of Object.entries(sinceRaw)) {
          // ":0" is the position of a channel without history yet (as sent in `offsets`).
          const ok = typeof off === "string" && off.length <= 4200 && (off === EMPTY_CHANNEL_OFFSET || OFFSET_PATTERN.test(off));
          if (!ok) return bad("bad_request", `since.${ch.slice(0, 64)}: offset must be one the server sent (<epoch>:<seq>…)`);
          since.set(ch, off);
        }
      }
      return { ok: true, msg: { type, channels: channels as string[], since } };
    }
    case "process_order": {
      const orderId = raw["order_id"];
      if (typeof orderId !== "string" || orderId.length === 0 || orderId.length > 128)
        return bad("bad_request", "field order_id must be a non-empty string of at most 128 characters");
      const action = raw["action"] ?? "process";
      if (typeof action !== "string") return bad("bad_request", "field action must be a string");
      return { ok: true, msg: { type, orderId, action } };
    }
    case "refresh": {
      const token = raw["token"];
      if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH)
        return bad("bad_request", `field token must be a non-empty string of at most ${MAX_TOKEN_LENGTH} characters`);
      return { ok: true, msg: { type, token } };
    }
    default:
      return bad("unknown_type", `unknown message type ${JSON.stringify(type.slice(0, 64))}`);
  }
}

/** The `error` frame text. */
export function errorFrame(code: ErrorCode, message: string): string {
  return JSON.stringify({ type: "error", error: { code, message } });
}

/** The `subscribed` reply: `recovered` when every `since` was honoured; `offsets` to resume from later. */
export function subscribedFrame(channels: string[], recovered: boolean, offsets: Map<string, string>): string {
  return JSON.stringify({ type: "subscribed", channels, recovered, offsets: Object.fromEntries(offsets) });
}

/** The `unsubscribed` reply. */
export function unsubscribedFrame(channels: string[]): string {
  return JSON.stringify({ type: "unsubscribed", channels });
}

/** The `refreshed` reply: the new token's `exp` (epoch seconds), null when it has none. */
export function refreshedFrame(exp: number | undefined): string {
  return JSON.stringify({ type: "refreshed", exp: exp ?? null });
}

/** What a `process_order` came to, as the client sees it. */
export interface ProcessOrderResult {
  orderId: string;
  /** Order status name after the action (or the current one when it was refused); "" if unknown. */
  status: string;
  errorCode?: string;
  message?: string;
}

/** The `process_order.result` frame text. */
export function processOrderResultFrame(r: ProcessOrderResult): string {
  const out: Record<string, string> = { type: "process_order.result", order_id: r.orderId, status: r.status };
  if (r.errorCode) out["error_code"] = r.errorCode;
  if (r.message) out["message"] = r.message;
  return JSON.stringify(out);
}
