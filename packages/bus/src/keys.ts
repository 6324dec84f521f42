/**
 * Every Redis key and pub/sub channel name orderstream uses, in one place. Names that must share a
 * Redis Cluster slot carry the same `{hash tag}`: a channel's history stream, its meta hash and its
 * pub/sub channel are all tagged with the channel name.
 *
 * The Lua scripts in event-scripts.ts build the per-channel names from {@link KEY_PREFIX} with the
 * same patterns (`<prefix>hist:{<channel>}` …); key-names.test.ts holds the two together.
 */
export const KEY_PREFIX = "os:";

/** The hash holding one order: `p` JSON prefix, `s` status name, `u` user id. */
export function orderKey(orderId: string): string {
  return `${KEY_PREFIX}order:{${orderId}}`;
}

/** An idempotency key's record: the id of the order the key created. */
export function idempotencyKey(key: string): string {
  return `${KEY_PREFIX}idem:{${key}}`;
}

/** The capped stream holding a channel's recent history (`f` = the event frame text). */
export function historyKey(channel: string): string {
  return `${KEY_PREFIX}hist:{${channel}}`;
}

/** A channel's history meta: `e` epoch, `s` last sequence number. */
export function metaKey(channel: string): string {
  return `${KEY_PREFIX}meta:{${channel}}`;
}

/** The Redis pub/sub channel that carries a channel's live events. */
export function pubsubChannel(channel: string): string {
  return `${KEY_PREFIX}ch:{${channel}}`;
}

const PUBSUB_PREFIX = `${KEY_PREFIX}ch:{`;

/** The orderstream channel name of a Redis pub/sub channel; undefined for foreign channels. */
export function channelOfPubsub(redisChannel: string): string | undefined {
  if (!redisChannel.startsWith(PUBSUB_PREFIX) || !redisChannel.endsWith("}")) return undefined;
  return redisChannel.slice(PUBSUB_PREFIX.length, -1);
}

/** Sorted set of orders stored but not yet confirmed queued (score = stored-at ms): the outbox. */
export const OUTBOX_KEY = `${KEY_PREFIX}outbox`;

/** The BullMQ queue name orders are processed on (DESIGN.md: `orders`). */
export const ORDERS_QUEUE = "orders";

/** BullMQ key prefix: a hash tag, so a queue's keys share one Redis Cluster slot. */
export const BULLMQ_PREFIX = "{osq}";
