/**
 * Every Redis key and pub/sub channel name orderstream uses, in one place. Names that must share a
 * Redis Cluster slot carry the same `{hash tag}`: a channel's history stream, its meta hash and its
 * pub/sub channel are all tagged with the channel name; an order's keys, its partition's pending
 * set, job outbox and BullMQ queue are all tagged with the partition's tag (see partitions.ts).
 * The Lua scripts never build a key name: every key they touch is passed in KEYS.
 */
export const KEY_PREFIX = "os:";

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
  return `${KEY_PREFIX}ap:{${channel}}:${orderId}:${version}`;
}

/** The BullMQ queue name orders are processed on (DESIGN.md: `orders`), one per partition. */
export const ORDERS_QUEUE = "orders";

/** BullMQ key prefix of a partition's queue: its hash tag, so the queue shares its slot. */
export function bullmqPrefix(partitionTag: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:q`;
}
