/** The all-orders channel that carries every `order.created` event. */
export const CHANNEL_CREATED = "orders.created";
/** The all-orders channel that carries every `order.status` event. */
export const CHANNEL_STATUS = "orders.status";
/** Prefix of a user's own channel, `orders.user.<userId>`, carrying both event types. */
export const USER_CHANNEL_PREFIX = "orders.user.";
/** Longest channel name accepted anywhere. */
export const MAX_CHANNEL_LENGTH = 128;
/** The characters of a user id in a channel name (as a regular expression source). */
export const USER_ID_CHARS = "[A-Za-z0-9_\\-:@.]";

const USER_ID_RE = new RegExp(`^${USER_ID_CHARS}+$`);

/** A parsed channel name: one of the all-orders channels or one user's channel. */
export type Channel = { kind: "all"; name: string } | { kind: "user"; name: string; userId: string };

/** The channel of one user's orders. */
export function userChannel(userId: string): string {
  return USER_CHANNEL_PREFIX + userId;
}

/**
 * Parses and validates a channel name: only the known families, at most
 * {@link MAX_CHANNEL_LENGTH} characters, no wildcards. Returns undefined when it is not valid.
 */
export function parseChannel(name: unknown): Channel | undefined {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_CHANNEL_LENGTH) return undefined;
  if (name === CHANNEL_CREATED || name === CHANNEL_STATUS) return { kind: "all", name };
  if (name.startsWith(USER_CHANNEL_PREFIX)) {
    const userId = name.slice(USER_CHANNEL_PREFIX.length);
    if (userId.length > 0 && USER_ID_RE.test(userId)) return { kind: "user", name, userId };
  }
  return undefined;
}
