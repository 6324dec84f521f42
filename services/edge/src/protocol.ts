import {
  type ActionErrorCode,
  BAD_REQUEST_ID_MESSAGE,
  type ErrorCode,
  MAX_ADMIN_USER_LENGTH,
  MAX_OFFSET_LENGTH,
  MAX_ORDER_ID_LENGTH,
  MAX_TOKEN_LENGTH,
  type RequestId,
  isRequestId,
  isResumeOffset,
  processOrderResultFrame,
} from "@orderstream/wire";

/** Error codes of `error` frames, from the wire protocol (packages/wire). */
export type { ErrorCode };

/** A client frame that passed the protocol checks; `id` is the request id to echo on its replies. */
export type ClientMessage = { id: RequestId | undefined } & (
  | { type: "connect"; token: string }
  | { type: "subscribe"; channels: string[]; since: Map<string, string> }
  | { type: "unsubscribe"; channels: string[] }
  | { type: "process_order"; orderId: string; action: string }
  | { type: "refresh"; token: string }
  | { type: "admin.nodes" }
  | { type: "admin.user_sockets" | "admin.disconnect"; user: string }
);

/** A client frame that did not: answered with an error frame of this code (with the frame's id when it had a valid one). */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  id: RequestId | undefined;
}

/** Result of {@link parseClientMessage}; `type` is the frame's type when it had a string one. */
export type Parsed = { ok: true; msg: ClientMessage } | { ok: false; error: ProtocolError; type: string | undefined };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function tokenOf(raw: Record<string, unknown>): string | undefined {
  const token = raw["token"];
  return typeof token === "string" && token.length > 0 && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}

/**
 * Parses one text frame of the client protocol (connect / subscribe / unsubscribe / process_order /
 * refresh / admin.*) and its optional `id`. Channel names are checked later (per channel); here only shapes
 * and types. A bad `id` is refused before anything else, so no reply carries a wrong one.
 */
export function parseClientMessage(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad("bad_request", "frame is not valid JSON", undefined, undefined);
  }
  if (!isObject(raw)) return bad("bad_request", "frame must be a JSON object", undefined, undefined);
  const type = typeof raw["type"] === "string" ? raw["type"] : undefined;
  const rawId = raw["id"];
  if (rawId !== undefined && !isRequestId(rawId)) return bad("bad_request", BAD_REQUEST_ID_MESSAGE, undefined, type);
  const id = rawId as RequestId | undefined;
  const fail = (code: ErrorCode, message: string): Parsed => bad(code, message, id, type);
  if (type === undefined) return fail("bad_request", "field type must be a string");
  switch (type) {
    case "connect":
    case "refresh": {
      const token = tokenOf(raw);
      if (token === undefined)
        return fail("bad_request", `field token must be a non-empty string of at most ${MAX_TOKEN_LENGTH} characters`);
      return { ok: true, msg: { type, token, id } };
    }
    case "subscribe":
    case "unsubscribe": {
      const channels = raw["channels"];
      if (!Array.isArray(channels)) return fail("bad_request", "field channels must be an array");
      if (channels.some((c) => typeof c !== "string")) return fail("bad_channel", "channel names must be strings");
      if (type === "unsubscribe") return { ok: true, msg: { type, channels: channels as string[], id } };
      const sinceRaw = raw["since"];
      const since = new Map<string, string>();
      if (sinceRaw !== undefined && sinceRaw !== null) {
        if (!isObject(sinceRaw)) return fail("bad_request", "field since must be an object of channel -> offset");
        for (const [ch, off] of Object.entries(sinceRaw)) {
          // ":0" is the position of a channel without history yet (as sent in `offsets`).
          if (!isResumeOffset(off) || off.length > MAX_OFFSET_LENGTH)
            return fail("bad_request", `since.${ch.slice(0, 64)}: offset must be one the server sent (<epoch>:<seq>…)`);
          since.set(ch, off);
        }
      }
      return { ok: true, msg: { type, channels: channels as string[], since, id } };
    }
    case "process_order": {
      const orderId = raw["order_id"];
      if (typeof orderId !== "string" || orderId.length === 0 || orderId.length > MAX_ORDER_ID_LENGTH)
        return fail("bad_request", `field order_id must be a non-empty string of at most ${MAX_ORDER_ID_LENGTH} characters`);
      const action = raw["action"] ?? "process";
      if (typeof action !== "string") return fail("bad_request", "field action must be a string");
      return { ok: true, msg: { type, orderId, action, id } };
    }
    case "admin.nodes":
      return { ok: true, msg: { type, id } };
    case "admin.user_sockets":
    case "admin.disconnect": {
      const user = raw["user"];
      if (typeof user !== "string" || user.length === 0 || user.length > MAX_ADMIN_USER_LENGTH)
        return fail("bad_request", `field user must be a non-empty string of at most ${MAX_ADMIN_USER_LENGTH} characters`);
      return { ok: true, msg: { type, user, id } };
    }
    default:
      return fail("unknown_type", `unknown message type ${JSON.stringify(type.slice(0, 64))}`);
  }
}

function bad(code: ErrorCode, message: string, id: RequestId | undefined, type: string | undefined): Parsed {
  return { ok: false, error: { code, message, id }, type };
}

/** What a `process_order` came to, as the client sees it. */
export interface ProcessOrderResult {
  orderId: string;
  /** Order status name after the action (or the current one when it was refused); "" if unknown. */
  status: string;
  errorCode?: string;
  message?: string;
}

/** The `process_order.result` frame text of `r`, answering request `id`. */
export function processOrderResult(r: ProcessOrderResult, id: RequestId | undefined): string {
  const frame = { order_id: r.orderId, status: r.status, ...(r.message ? { message: r.message } : {}) };
  return processOrderResultFrame(r.errorCode ? { ...frame, error_code: r.errorCode as ActionErrorCode } : frame, id);
}
