import { CHANNEL_CREATED, CHANNEL_STATUS } from "@orderstream/domain";
import { KEY_PREFIX, LAYOUT_KEY, metaKey, partitionStream } from "./keys.js";
import type { Partitioning } from "./partitions.js";
import type { RedisConnection } from "../runtime/redis-connection.js";
import { guardRedis } from "../runtime/redis-errors.js";

/**
 * The data layout this version reads and writes: 3 since 0.3.0 (an order, its user's idempotency
 * keys and channel in the user's partition, the due set). 0.2.x wrote layout 2 without saying so.
 */
export const LAYOUT_VERSION = 3;

/** Redis holds data of another layout: starting would mix them. */
export class LayoutMismatchError extends Error {
  constructor(readonly found: string) {
    super(
      `Redis holds orderstream data of layout ${found}, and this version (layout ${LAYOUT_VERSION}, orderstream 0.3) does not read it. ` +
        "Nothing was written. Either let the old version finish its orders (drain it) and then remove its data " +
        `(on a development database: FLUSHALL, or delete the keys under "${KEY_PREFIX}"), or point REDIS_URL at an empty Redis. ` +
        "See CHANGELOG.md, 0.3.0.",
    );
    this.name = "LayoutMismatchError";
  }
}

/**
 * Checks the data layout before a service starts: an empty Redis gets this version's layout; one
 * of this layout goes on; one of another refuses with {@link LayoutMismatchError}. Data of 0.2.x,
 * which named no layout, is recognised by what layout 3 never writes: its pending sets and job
 * outboxes, and all-orders streams whose meta holds a sequence without a renewal time (`x`).
 */
export async function ensureLayout(conn: RedisConnection, partitions: Partitioning): Promise<void> {
  const found = await guardRedis(() => conn.get(LAYOUT_KEY));
  if (found === String(LAYOUT_VERSION)) return;
  if (found !== null) throw new LayoutMismatchError(found);
  const legacy = await guardRedis(() => Promise.all(partitions.all().map((p) => holdsLayout2(conn, partitions.tag(p)))));
  if (legacy.some((l) => l)) throw new LayoutMismatchError("2 (orderstream 0.2.x)");
  await guardRedis(() => conn.set(LAYOUT_KEY, String(LAYOUT_VERSION), "NX"));
  const now = await guardRedis(() => conn.get(LAYOUT_KEY));
  if (now !== String(LAYOUT_VERSION)) throw new LayoutMismatchError(String(now));
}

/** Whether the partition tagged `tag` holds keys only 0.2.x wrote (all of them in its slot). */
async function holdsLayout2(conn: RedisConnection, tag: string): Promise<boolean> {
  const [outbox, created, status] = await Promise.all([
    conn.exists(`${KEY_PREFIX}{${tag}}:pending`, `${KEY_PREFIX}{${tag}}:jobs`, `${KEY_PREFIX}{${tag}}:jobdata`),
    conn.hmget(metaKey(partitionStream(CHANNEL_CREATED, tag)), "s", "x"),
    conn.hmget(metaKey(partitionStream(CHANNEL_STATUS, tag)), "s", "x"),
  ]);
  return outbox > 0 || [created, status].some(([seq, renewed]) => seq !== null && renewed === null);
}
