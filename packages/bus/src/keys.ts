/**
 * Every Redis key and pub/sub channel name orderstream uses, in one place. Names that must share a
 * Redis Cluster slot carry the same `{hash tag}`: a channel's history stream, its meta hash, its
 * pub/sub channel and its applied markers are all tagged with the channel's tag (its name, or a
 * chosen tag for the all-orders channels); an order's keys, its partition's pending
 * set, job outbox and BullMQ queue are all tagged with the partition's tag (see partitions.ts).
 * The Lua scripts never build a key name: every key they touch is passed in KEYS.
 */
import { CHANNEL_CREATED, CHANNEL_STATUS } from "@orderstream/domain";
import { tagWithSlot } from "./partitions.js";

export const KEY_PREFIX = "os:";

/**
 * The hash tag of a channel's keys: the channel name, except for the two all-orders channels,
 * whose tags are chosen to land a quarter and three quarters into the slot space, so that on a
 * cluster with masters on equal slot ranges (2, 3, 4 or 6 of them) they sit on different masters.
 */
const CHANNEL_TAGS = new Map<string, string>([
  [CHANNEL_CREATED, tagWithSlot(CHANNEL_CREATED, (slot) => slot >= 3900 && slot <= 4200)],
  [CHANNEL_STATUS, tagWithSlot(CHANNEL_STATUS, (slot) => slot >= 12200 && slot <= 12500)],
]);
const TAG_CHANNELS = new Map([...CHANNEL_TAGS].map(([ch, tag]) => [tag, ch]));

/** The hash tag (without braces) a channel's keys and pub/sub channel carry. */
export function channelTag(channel: string): string {
  return CHANNEL_TAGS.get(channel) ?? channel;
}

/** The capped stream holding a channel's recent history (`f` = the event frame text). */
export function historyKey(channel: string): string {
  return `${KEY_PREFIX}hist:{${channelTag(channel)}}`;
}

/** A channel's history meta: `e` epoch, `s` last sequence number, `x` last TTL renewal (ms). */
export function metaKey(channel: string): string {
  return `${KEY_PREFIX}meta:{${channelTag(channel)}}`;
}

/** The Redis pub/sub channel that carries a channel's live events. */
export function pubsubChannel(channel: string): string {
  return `${KEY_PREFIX}ch:{${channelTag(channel)}}`;
}

const PUBSUB_PREFIX = `${KEY_PREFIX}ch:{`;

/** The orderstream channel name of a Redis pub/sub channel; undefined for foreign channels. */
export function channelOfPubsub(redisChannel: string): string | undefined {
  if (!redisChannel.startsWith(PUBSUB_PREFIX) || !redisChannel.endsWith("}")) return undefined;
  const tag = redisChannel.slice(PUBSUB_PREFIX.length, -1);
  return TAG_CHANNELS.get(tag) ?? tag;
}

/**
 * The hash holding one order, in its partition's slot: `p` JSON prefix, `s` status name, `u` user
 * id, `v` event version (one per emitted event), `a` last version appended to every channel,
 * `e` the statuses of the pending events a+1..v (comma-joined), `d` latest lease end handed out (epoch ms).
 */
export function orderKey(partitionTag: string, orderId: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:order:${orderId}`;
}

/** An idempotency key's record (the id of the order it created), in its partition's slot. */
export function idempotencyKey(partitionTag: string, key: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:idem:${key}`;
}

/**
 * A partition's orders whose events are not yet on every channel (member = order id, score =
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
