import { status } from "@grpc/grpc-js";
import {
  CHANNEL_CREATED,
  CHANNEL_STATUS,
  ORDER_LIMITS,
  type StreamPosition,
  formatOffset,
  parseOffset,
  parseStatus,
  userChannel,
} from "@orderstream/domain";
import type { OrderFilter, OrderStatus } from "@orderstream/proto";
import { ApiError } from "./api-error.js";

/** A validated SubscribeOrders request. */
export interface SubscribeFilter {
  /** Statuses to deliver; undefined = all. */
  statuses: ReadonlySet<OrderStatus> | undefined;
  /** The bus channels the stream reads: the user's channel, or `orders.created` + `orders.status`. */
  channels: string[];
  /**
   * Where to resume each channel (same order as `channels`); undefined = live only. A position
   * with epoch "" means the channel had no history when the token was issued: resume from the
   * start of its current history.
   */
  since: (StreamPosition | undefined)[] | undefined;
}

const USER_ID_RE = /^[A-Za-z0-9_\-:@.]+$/;

function invalid(message: string): ApiError {
  return new ApiError(status.INVALID_ARGUMENT, message);
}

/**
 * The resume token of a stream reading `positions` (one per channel, in `channels` order): the
 * channel offset for a user stream, `<createdOffset>|<statusOffset>` for the all-orders stream
 * (a part is empty while its channel has no history).
 */
export function resumeToken(positions: readonly StreamPosition[]): string {
  return positions.map((p) => (p.epoch === "" ? "" : formatOffset(p))).join("|");
}

function parseToken(token: string, parts: number): StreamPosition[] | undefined {
  const pieces = token.split("|");
  if (pieces.length !== parts) return undefined;
  const out: StreamPosition[] = [];
  for (const piece of pieces) {
    if (piece === "" && parts > 1) {
      out.push({ epoch: "", seq: 0 });
      continue;
    }
    const pos = parseOffset(piece);
    if (!pos) return undefined;
    out.push(pos);
  }
  return out;
}

/** Validates a SubscribeOrders request; throws INVALID_ARGUMENT naming the offending field. */
export function parseSubscribeFilter(req: OrderFilter): SubscribeFilter {
  let statuses: Set<OrderStatus> | undefined;
  if (req.statuses.length > 0) {
    statuses = new Set();
    req.statuses.forEach((name, i) => {
      const s = parseStatus(name.trim());
      if (s === undefined) throw invalid(`statuses[${i}]: unknown status ${JSON.stringify(name.slice(0, 64))}`);
      statuses?.add(s);
    });
  }
  const userId = req.userId;
  if (userId.length > ORDER_LIMITS.maxUserIdLength)
    throw invalid(`user_id: must be at most ${ORDER_LIMITS.maxUserIdLength} characters`);
  if (userId !== "" && !USER_ID_RE.test(userId)) throw invalid("user_id: may contain only letters, digits and _ - : @ .");
  const channels = userId !== "" ? [userChannel(userId)] : [CHANNEL_CREATED, CHANNEL_STATUS];
  let since: StreamPosition[] | undefined;
  if (req.sinceOffset !== "") {
    since = parseToken(req.sinceOffset, channels.length);
    if (!since) {
      throw invalid(
        "since_offset: not a resume token of this kind of stream (use the event_offset of an Order received with the same filter)",
      );
    }
  }
  return { statuses, channels, since };
}
