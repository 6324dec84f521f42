import { CHANNEL_CREATED, CHANNEL_STATUS, userChannel } from "@orderstream/domain";
import { DEFAULT_HISTORY, type HistoryOptions, newEpoch } from "../layout/history-options.js";
import { dueKey, historyKey, idempotencyKey, metaKey, orderKey, partitionStream, pubsubChannel } from "../layout/keys.js";
import { type ScriptConn, defineScripts } from "../layout/lua-loader.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

const COMMANDS = { osCreateOrders: "createOrders", osTransitionOrders: "transitionOrders" } as const;

/** One order of a {@link WriteScripts.createOrders} call. */
export interface CreateItem {
  id: string;
  /** The order's JSON text without its closing brace and status (see orderJsonPrefix). */
  prefix: string;
  userId: string;
  idemKey: string | undefined;
}

/** One order of a {@link WriteScripts.transitionOrders} call. */
export interface TransitionItem {
  id: string;
  userId: string;
  from: readonly string[];
  /** The new status; "" = back to the status the order failed in (a retry). */
  to: string;
  /** The next step is due in this many ms; "none": nothing is due; undefined: keep the due entry. */
  due: number | "none" | undefined;
  /** JSON members the event carries, each starting with a comma (a note, a reason); "" for none. */
  extra: string;
  /** Kept on the order when it becomes FAILED. */
  reason: string;
}

/** Options of {@link WriteScripts}. */
export interface ScriptOptions {
  history: HistoryOptions;
  /** SPUBLISH (Redis Cluster sharded pub/sub) instead of PUBLISH. */
  sharded: boolean;
  idempotencyTtlMs: number;
}

/**
 * The write path's script calls, one partition each (create, transition), their `KEYS` and `ARGV`
 * built here by name (the `.lua` files say the order).
 */
export class WriteScripts {
  private readonly conn: ScriptConn<keyof typeof COMMANDS>;
  private readonly opts: ScriptOptions;

  constructor(conn: RedisConnection, opts: Partial<ScriptOptions> = {}) {
    this.conn = defineScripts(conn, COMMANDS);
    this.opts = { history: DEFAULT_HISTORY, sharded: false, idempotencyTtlMs: 24 * 3600_000, ...opts };
  }

  /** The header of every write script (includes/streamAppend.lua). */
  private header(): (string | number)[] {
    const h = this.opts.history;
    return [newEpoch(), h.size, h.ttlMs, h.metaTtlMs, this.opts.sharded ? "SPUBLISH" : "PUBLISH"];
  }

  /** createOrders.lua in the partition tagged `tag`: per order `[id, 1]` or `[existingId, 0]`, flattened. */
  createOrders(tag: string, items: readonly CreateItem[]): Promise<unknown[]> {
    const keys = [dueKey(tag), ...streamKeys(partitionStream(CHANNEL_CREATED, tag))];
    const args = [...this.header(), CHANNEL_CREATED, this.opts.idempotencyTtlMs, items.length];
    for (const o of items) {
      const channel = userChannel(o.userId);
      keys.push(orderKey(tag, o.id), ...streamKeys(partitionStream(channel, tag)));
      if (o.idemKey !== undefined) keys.push(idempotencyKey(tag, o.userId, o.idemKey));
      args.push(o.id, o.prefix, o.userId, channel, o.idemKey === undefined ? "0" : "1");
    }
    return this.conn.osCreateOrders(keys.length, ...keys, ...args);
  }

  /** transitionOrders.lua in the partition tagged `tag`: one reply array per order. */
  transitionOrders(tag: string, items: readonly TransitionItem[]): Promise<unknown[]> {
    const keys = [dueKey(tag), ...streamKeys(partitionStream(CHANNEL_STATUS, tag))];
    const args = [...this.header(), CHANNEL_STATUS, items.length];
    for (const t of items) {
      const channel = userChannel(t.userId);
      keys.push(orderKey(tag, t.id), ...streamKeys(partitionStream(channel, tag)));
      args.push(
        t.id,
        t.userId,
        channel,
        t.from.join(","),
        t.to,
        t.due === undefined ? "" : t.due === "none" ? "-" : t.due,
        t.extra,
        t.reason,
      );
    }
    return this.conn.osTransitionOrders(keys.length, ...keys, ...args);
  }
}

/** The three keys of a stream a write script appends to: history, meta, pub/sub channel. */
function streamKeys(stream: string): [string, string, string] {
  return [historyKey(stream), metaKey(stream), pubsubChannel(stream)];
}
