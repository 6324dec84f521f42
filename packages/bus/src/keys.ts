/**
 * Every Redis key and pub/sub channel name orderstream uses, in one place. Names that must share a
 * Redis Cluster slot carry the same `{hash tag}`: a channel's history stream, its meta hash, its
 * pub/sub channel and its applied markers are all tagged with the channel's tag (a user channel's
 * name; for the partition streams of the all-orders channels, the partition's tag); an order's
 * keys, its partition's pending set, job outbox and BullMQ queue are all tagged with the
 * partition's tag (see partitions.ts).
 * The Lua scripts never build a key name: every key they touch is passed in KEYS.
 */
import { CHANNEL_CREATED, CHANNEL_STATUS } from "@orderstream/domain";

export const KEY_PREFIX = "os:";

/** The all-orders channels: carried on one partition stream per partition (see {@link firehoseChannel}). */
export const FIREHOSE_CHANNELS: readonly string[] = [CHANNEL_CREATED, CHANNEL_STATUS];

/** Whether `channel` is an all-orders channel, carried on partition streams. */
export function isFirehose(channel: string): boolean {
  return channel === CHANNEL_CREATED || channel === CHANNEL_STATUS;
}

/**
 * The partition stream of an all-orders channel for the partition tagged `partitionTag`: its keys
 * live in the partition's slot, beside the orders whose events it carries, so the all-orders
 * traffic spreads over every master and an order's events stay in order on one stream. The name
 * (`orders.created#<tag>`, `#` being outside every public channel name) never reaches a client: frames on it carry the public channel name.
 */
export function firehoseChannel(channel: string, partitionTag: string): string {
  return `${channel}#${partitionTag}`;
}

/** The channel name a stream's frames carry: the all-orders channel of a partition stream, else the name itself. */
export function publicChannel(channel: string): string {
  const at = channel.lastIndexOf("#");
  return at < 0 ? channel : channel.slice(0, at);
}

/** Whether `channel` names a partition stream of an all-orders channel. */
export function isPartitionStream(channel: string): boolean {
  return channel.includes("#");
}

/** The hash tag (without braces) a channel's keys and pub/sub channel carry. */
export function channelTag(channel: string): string {
  const at = channel.lastIndexOf("#");
  return at < 0 ? channel : channel.slice(at + 1);
}

/** What follows a channel's tag in its key names: the public name for a partition stream, else nothing. */
function keySuffix(channel: string): string {
  const name = publicChannel(channel);
  return name === channel ? "" : `:${name}`;
}

/** The capped stream holding a channel's recent history (`f` = the event frame text). */
export function historyKey(channel: string): string {
  return `${KEY_PREFIX}hist:{${channelTag(channel)}}${keySuffix(channel)}`;
}

/** A channel's history meta: `e` epoch, `s` last sequence number, `x` last TTL renewal (ms). */
export function metaKey(channel: string): string {
  return `${KEY_PREFIX}meta:{${channelTag(channel)}}${keySuffix(channel)}`;
}

/** The Redis pub/sub channel that carries a channel's live events. */
export function pubsubChannel(channel: string): string {
  return `${KEY_PREFIX}ch:{${channelTag(channel)}}${keySuffix(channel)}`;
}

const PUBSUB_PREFIX = `${KEY_PREFIX}ch:{`;

/** The orderstream channel name of a Redis pub/sub channel; undefined for foreign channels. */
export function channelOfPubsub(redisChannel: string): string | undefined {
  if (!redisChannel.startsWith(PUBSUB_PREFIX)) return undefined;
  const close = redisChannel.indexOf("}", PUBSUB_PREFIX.length);
  if (close < 0) return undefined;
  const tag = redisChannel.slice(PUBSUB_PREFIX.length, close);
  if (close === redisChannel.length - 1) return tag;
  if (redisChannel.charCodeAt(close + 1) !== 58 /* : */) return undefined;
  return firehoseChannel(redisChannel.slice(close + 2), tag);
}

/**
 * The hash holding one order, in its partition's slot: `p` JSON prefix, `s` status name, `u` user
 * id, `v` event version (one per emitted event), `a` last version appended to the user's channel,
 * `e` the statuses of the pending events a+1..v (comma-joined), `d` latest lease end handed out (epoch ms).
 */
export function orderKey(partitionTag: string, orderId: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:order:${orderId}`;
}

/**
 * An idempotency key's record (the id of the order it created), in its partition's slot. Scoped
 * to the user: the same key from two users names two records (the user id's length keeps
 * `a` + `b:c` apart from `a:b` + `c`).
 */
export function idempotencyKey(partitionTag: string, userId: string, key: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:idem:${userId.length}:${userId}:${key}`;
}

/**
 * A partition's orders whose events are not yet on the user's channel (member = order id, score =
 * epoch ms when their writer's lease ends and the repair sweep may take them over).
 */
export function pendingKey(partitionTag: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:pending`;
}

/** A partition's job outbox: order batches stored but not yet confirmed queued (score = ms). */
export function jobOutboxKey(partitionTag: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:jobs`;
}

/** The order ids of each batch in a partition's job outbox (field = batch id = job id). */
export function jobDataKey(partitionTag: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:jobdata`;
}

/**
 * Marks that an order's event `version` was appended to `channel` (in the channel's slot): what
 * makes a retried channel append a no-op. Deleted once no writer can still hold the event.
 */
export function appliedKey(channel: string, orderId: string, version: number): string {
  return `${KEY_PREFIX}ap:{${channelTag(channel)}}:${orderId}:${version}`;
}

/** The BullMQ queue name orders are processed on (DESIGN.md: `orders`), one per partition. */
export const ORDERS_QUEUE = "orders";

/** BullMQ key prefix of a partition's queue: its hash tag, so the queue shares its slot. */
export function bullmqPrefix(partitionTag: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:q`;
}
