/** The prefix of a user's own channel (`orders.user.<userId>`), as in the WebSocket protocol. */
export const USER_CHANNEL_PREFIX = "orders.user.";

/** The user id of pool member `n` (shared by socket plans and created orders). */
export function poolUserId(n: number): string {
  return `lg-user-${n}`;
}

/** What one socket subscribes to. */
export interface SocketAssignment {
  index: number;
  url: string;
  /** Set for a per-user socket: it subscribes to `orders.user.<userId>` only. */
  userId?: string;
  channels: string[];
}

/** The parameters that decide every socket's assignment from its global index alone. */
export interface SocketPlanParams {
  urls: string[];
  channels: string[];
  userRatio: number;
  users: number;
}

/**
 * Socket `index` of the run: per-user sockets are spread evenly through the index range at
 * `userRatio`, cycling through the user pool; the rest subscribe to `channels`.
 */
export function assignSocket(index: number, p: SocketPlanParams): SocketAssignment {
  const url = p.urls[index % p.urls.length] as string;
  const before = Math.floor(index * p.userRatio);
  const isUser = p.users > 0 && Math.floor((index + 1) * p.userRatio) > before;
  if (isUser) {
    const userId = poolUserId(before % p.users);
    return { index, url, userId, channels: [USER_CHANNEL_PREFIX + userId] };
  }
  return { index, url, channels: p.channels };
}

/** Splits `total` sockets into `parts` contiguous ranges [start, start+count). */
export function splitRange(total: number, parts: number): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const count = Math.floor(total / parts) + (i < total % parts ? 1 : 0);
    out.push({ start, count });
    start += count;
  }
  return out;
}
