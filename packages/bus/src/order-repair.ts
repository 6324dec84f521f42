import { ORDER_CLAIM_LUA } from "./event-scripts.js";
import { type PendingEvents, pendingEventsOf, writerDeadline } from "./event-writer.js";
import { jobDataKey, jobOutboxKey, orderKey, pendingKey } from "./keys.js";
import type { OrderStore, StoredBatch } from "./order-store.js";
import type { Partitioning } from "./partitions.js";
import { guardRedis } from "./redis-errors.js";
import type { RedisConnection } from "./redis-connection.js";

type RepairConn = RedisConnection & {
  osOrderClaim(numKeys: number, ...args: (string | number)[]): Promise<unknown[]>;
};

/**
 * The repair side of the write path, per partition: completes events whose writer died between
 * the order step and the channel steps (claimed once their lease has ended, then appended, which
 * is a no-op where they already were), and finds order batches whose job was never confirmed
 * queued. Any number of processors may run it at once.
 */
export class OrderRepair {
  private readonly conn: RepairConn;

  /** Works on `store`'s partitions and claims under `store`'s lease. */
  constructor(
    conn: RedisConnection,
    private readonly store: OrderStore,
  ) {
    const c = conn as RepairConn;
    if (typeof c.osOrderClaim !== "function") conn.defineCommand("osOrderClaim", { lua: ORDER_CLAIM_LUA });
    this.conn = c;
  }

  /** Completes up to `limit` orders of partition `p` whose events were left half-done; returns how many. */
  async completeStale(p: number, limit: number): Promise<number> {
    const tag = this.store.partitions.tag(p);
    const ids = await guardRedis(() => this.conn.zrangebyscore(pendingKey(tag), "-inf", Date.now(), "LIMIT", 0, limit));
    if (ids.length === 0) return 0;
    const keys = [pendingKey(tag), ...ids.map((id) => orderKey(tag, id))];
    const reply = await guardRedis(() => this.conn.osOrderClaim(keys.length, ...keys, this.store.leaseMs, ...ids));
    const deadline = writerDeadline(reply[1]);
    const pending: PendingEvents[] = [];
    ids.forEach((orderId, i) => {
      const r = reply[2 + i] as unknown[];
      if (r[0] !== "ok") return;
      pending.push(pendingEventsOf({ orderId, partition: p, prefix: String(r[1]), userId: String(r[2]) }, r[3], r[4], deadline));
    });
    await this.store.writer.complete(pending);
    return pending.length;
  }

  /** Batches of partition `p` stored more than `olderThanMs` ago whose job is not confirmed queued. */
  async unqueuedBatches(p: number, olderThanMs: number, limit: number): Promise<StoredBatch[]> {
    const tag = this.store.partitions.tag(p);
    const batchIds = await guardRedis(() =>
      this.conn.zrangebyscore(jobOutboxKey(tag), "-inf", Date.now() - olderThanMs, "LIMIT", 0, limit),
    );
    if (batchIds.length === 0) return [];
    const data = await guardRedis(() => this.conn.hmget(jobDataKey(tag), ...batchIds));
    return batchIds.map((batchId, i) => ({ partition: p, batchId, orderIds: (data[i] ?? "").split(",").filter((s) => s !== "") }));
  }

  /** Number of batches in partition `p`'s job outbox (for metrics and tests). */
  async outboxSize(p: number): Promise<number> {
    return guardRedis(() => this.conn.zcard(jobOutboxKey(this.store.partitions.tag(p))));
  }

  /** Number of orders in partition `p` with events not yet on the user's channel. */
  async pendingSize(p: number): Promise<number> {
    return guardRedis(() => this.conn.zcard(pendingKey(this.store.partitions.tag(p))));
  }
}

/** How much half-done work the write path holds, summed over partitions (metrics and tests). */
export interface WritePathBacklog {
  /** Order batches stored whose job is not confirmed queued. */
  unqueuedBatches: number;
  /** Orders with events not yet on the user's channel. */
  pendingOrders: number;
}

/** Reads the {@link WritePathBacklog} of every partition. */
export async function writePathBacklog(conn: RedisConnection, partitions: Partitioning): Promise<WritePathBacklog> {
  const tags = partitions.all().map((p) => partitions.tag(p));
  const [jobs, pending] = await guardRedis(() =>
    Promise.all([Promise.all(tags.map((t) => conn.zcard(jobOutboxKey(t)))), Promise.all(tags.map((t) => conn.zcard(pendingKey(t))))]),
  );
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return { unqueuedBatches: sum(jobs), pendingOrders: sum(pending) };
}
