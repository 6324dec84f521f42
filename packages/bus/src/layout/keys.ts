/**
 * Every Redis key and pub/sub channel name orderstream uses, in one place. Everything one event
 * touches carries its partition's `{hash tag}` (see partitions.ts), so one script in one slot
 * writes it: the order's hash, its user's idempotency keys, the partition's due set and BullMQ
 * queue, the user's channel stream and the partition's streams of the all-orders channels (each
 * stream = history, meta and pub/sub channel).
 * The Lua scripts never build a key name: every key they touch is passed in KEYS.
 */
import { CHANNEL_CREATED, CHANNEL_STATUS } from "@orderstream/domain";

export const KEY_PREFIX = "os:";

/** The all-orders channels: carried on one stream per partition (see {@link partitionStream}). */
export const ALL_ORDERS_CHANNELS: readonly string[] = [CHANNEL_CREATED, CHANNEL_STATUS];

/** Whether `channel` is an all-orders channel, carried on one stream per partition. */
export function isAllOrders(channel: string): boolean {
  return channel === CHANNEL_CREATED || channel === CHANNEL_STATUS;
}

/**
 * The stream that carries `channel` in the partition tagged `partitionTag`: its keys live in the
 * partition's slot, beside the orders whose events it carries. An all-orders channel has one per
 * partition (its traffic spreads over every master, an order's events stay in order on one
 * stream); a user's channel has one, in its user's partition. The name (`orders.created#<tag>`,
 * `#` being outside every public channel name) never reaches a client: frames on it carry the
 * public channel name.
 */
export function partitionStream(channel: string, partitionTag: string): string {
  return `${channel}#${partitionTag}`;
}

/** The channel name a stream's frames carry (the name before `#`). */
export function publicChannel(channel: string): string {
  const at = channel.lastIndexOf("#");
  return at < 0 ? channel : channel.slice(0, at);
}

/** The hash tag (without braces) a channel's keys and pub/sub channel carry. */
export function channelTag(channel: string): string {
  const at = channel.lastIndexOf("#");
  return at < 0 ? channel : channel.slice(at + 1);
}

/** What follows a stream's tag in its key names: the public channel name (nothing for a bare name). */
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
  return partitionStream(redisChannel.slice(close + 2), tag);
}

/**
 * The hash holding one order, in its partition's slot: `p` JSON prefix (see orderJsonPrefix),
 * `s` status name, `u` user id, `v` version (one per event).
 */
export function orderKey(partitionTag: string, orderId: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:order:${orderId}`;
}

/**
 * An idempotency key's record (the id of the order it created), in its user's partition. Scoped
 * to the user: the same key from two users names two records (the user id's length keeps
 * `a` + `b:c` apart from `a:b` + `c`).
 */
export function idempotencyKey(partitionTag: string, userId: string, key: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:idem:${userId.length}:${userId}:${key}`;
}

/**
 * A partition's due set: every order that is not terminal and has a step due (member = order id,
 * score = epoch ms when the step is due), written by the script that changes the order. What the
 * due sweep re-queues when an order's job is gone.
 */
export function dueKey(partitionTag: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:due`;
}

/** The data layout version's key (see layout-version.ts). */
export const LAYOUT_KEY = `${KEY_PREFIX}layout`;

/** The BullMQ queue name orders are processed on (docs/architecture.md: `orders`), one per partition. */
export const ORDERS_QUEUE = "orders";

/** BullMQ key prefix of a partition's queue: its hash tag, so the queue shares its slot. */
export function bullmqPrefix(partitionTag: string): string {
  return `${KEY_PREFIX}{${partitionTag}}:q`;
}

/**
 * The node registry (admin/node-registry.ts): one key per live process (`os:{nodes}:node:<service>:<node>`,
 * a JSON value with a TTL its heartbeat renews) and the set of those keys. One hash tag, so the
 * registry lives in one Redis Cluster slot and is read with one MGET.
 */
export const NODE_INDEX_KEY = `${KEY_PREFIX}{nodes}:index`;

/** One node's registry entry (see {@link NODE_INDEX_KEY}). */
export function nodeKey(service: string, node: string): string {
  return `${KEY_PREFIX}{nodes}:node:${service}:${node}`;
}

/**
 * The edges' control channel (admin/control-channel.ts): admin requests every edge answers
 * (a user's sockets, disconnect a user). Plain pub/sub on one node, sharded on a Cluster.
 */
export const CONTROL_CHANNEL = `${KEY_PREFIX}{admin}:ctl`;

/** The channel one control-channel instance hears its replies on (same slot as the requests). */
export function controlReplyChannel(instance: string): string {
  return `${KEY_PREFIX}{admin}:reply:${instance}`;
}
