import { status } from "@grpc/grpc-js";
import { ORDER_LIMITS, parseStatus, userChannel, CHANNEL_CREATED, CHANNEL_STATUS } from "@orderstream/domain";
import { EMPTY_OFFSET, parseCompositeOffset, parseOffset } from "@orderstream/wire";
import type { OrderFilter, OrderStatus } from "@orderstream/proto";
import { ApiError } from "./api-error.js";

/** A validated SubscribeOrders request. */
export interface SubscribeFilter {
  /** Statuses to deliver; undefined = all. */
  statuses: ReadonlySet<OrderStatus> | undefined;
  /** The bus channels the stream reads: the user's channel, or `orders.created` + `orders.status`. */
  channels: string[];
  /**
   * The offset to resume each channel from (same order as `channels`); undefined = live only.
   * ":0" means the channel had no history when the token was issued: resume from the start of
   * its current history.
   */
  since: string[] | undefined;
}

const USER_ID_RE = /^[A-Za-z0-9_\-:@.]+$/;

function invalid(message: string): ApiError {
  return new ApiError(status.INVALID_ARGUMENT, message);
}

/**
 * The resume token of a stream reading channels at `offsets` (one per channel, in `channels`
 * order): the channel offset for a user stream, `<createdOffset>|<statusOffset>` for the
 * all-orders stream (their offsets are composite: every partition's position).
 */
export function resumeToken(offsets: readonly string[]): string {
  return offsets.join("|");
}

function parseToken(token: string, parts: number): string[] | undefined {
  const pieces = token.split("|");
  if (pieces.length !== parts) return undefined;
  const out: string[] = [];
  for (const piece of pieces) {
    // An empty piece: a token of an earlier version for a channel without history.
    const offset = piece === "" ? EMPTY_OFFSET : piece;
    if (offset !== EMPTY_OFFSET && !parseOffset(offset) && !parseCompositeOffset(offset)) return undefined;
    out.push(offset);
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
  let since: string[] | undefined;
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
