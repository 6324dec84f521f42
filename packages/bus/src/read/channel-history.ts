import { parseChannel } from "@orderstream/domain";
import { partitionStream, historyKey, isAllOrders } from "../layout/keys.js";
import type { Partitioning } from "../layout/partitions.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

/**
 * The streams that carry a channel (history and live): one per partition for an all-orders
 * channel, the one in its user's partition for a user's channel.
 */
export function channelStreams(channel: string, partitions: Partitioning): string[] {
  if (isAllOrders(channel)) return partitions.all().map((p) => partitionStream(channel, partitions.tag(p)));
  const user = parseChannel(channel);
  if (user?.kind !== "user") throw new RangeError(`not a channel: ${channel}`);
  return [partitionStream(channel, partitions.tag(partitions.ofUser(user.userId)))];
}

/**
 * Every frame a channel's history holds, for checks and tools (never on a hot path): an all-orders
 * channel's partition streams one after the other, each in its own order (an order's events are
 * all on one partition, so they keep their order).
 */
export async function readChannelHistory(conn: RedisConnection, channel: string, partitions: Partitioning): Promise<string[]> {
  const streams = await Promise.all(channelStreams(channel, partitions).map((s) => conn.xrange(historyKey(s), "-", "+")));
  return streams.flatMap((entries) => entries.map(([, fields]) => String(fields[1])));
}

/** How many events a channel's history holds (XLEN over its streams). */
export async function channelHistoryLength(conn: RedisConnection, channel: string, partitions: Partitioning): Promise<number> {
  const lengths = await Promise.all(channelStreams(channel, partitions).map((s) => conn.xlen(historyKey(s))));
  return lengths.reduce((a, b) => a + b, 0);
}
