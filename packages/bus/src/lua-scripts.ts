import { readFileSync } from "node:fs";
import { CHANNEL_CREATED, CHANNEL_STATUS, userChannel } from "@orderstream/domain";
import { DEFAULT_HISTORY, type HistoryOptions, newEpoch } from "./history-options.js";
import { dueKey, historyKey, idempotencyKey, metaKey, orderKey, partitionStream, pubsubChannel } from "./keys.js";
import type { RedisConnection } from "./redis-connection.js";

/** The folder of the `.lua` files (`packages/bus/lua`, beside src/ and dist/). */
const LUA_DIR = new URL("../lua/", import.meta.url);

const INCLUDE = /^--- @include "([\w/-]+)"$/gm;

/**
 * The text of `lua/<name>.lua` with its `--- @include "includes/x"` lines replaced by those
 * files (each at most once per script), as BullMQ assembles its commands.
 */
export function loadLua(name: string, seen = new Set<string>()): string {
  const text = readFileSync(new URL(`${name}.lua`, LUA_DIR), "utf8");
  return text.replace(INCLUDE, (_line, inc: string) => {
    if (seen.has(inc)) return "";
    seen.add(inc);
    return loadLua(inc, seen);
  });
}

/** The Redis commands orderstream defines, each from its `lua/<file>.lua`. */
const COMMANDS = {
  osCreateOrders: "createOrders",
  osTransitionOrders: "transitionOrders",
  osReadHistory: "readHistory-2",
  osStreamPosition: "streamPosition-1",
} as const;

type CommandName = keyof typeof COMMANDS;
type ScriptConn = RedisConnection & Record<CommandName, (...args: (string | number)[]) => Promise<unknown[]>>;

const sources = new Map<CommandName, string>();

/** Defines every command on `conn` once (ioredis then runs each by EVALSHA, loading it on a miss). */
function defineAll(conn: RedisConnection): ScriptConn {
  const c = conn as ScriptConn;
  if (typeof c.osCreateOrders === "function") return c;
  for (const [name, file] of Object.entries(COMMANDS) as [CommandName, string][]) {
    let lua = sources.get(name);
    if (lua === undefined) sources.set(name, (lua = loadLua(file)));
    const keys = /-(\d+)$/.exec(file)?.[1];
    conn.defineCommand(name, keys === undefined ? { lua } : { lua, numberOfKeys: Number(keys) });
  }
  return c;
}

/** One order of a {@link Scripts.createOrders} call. */
export interface CreateItem {
  id: string;
  /** The order's JSON text without its closing brace and status (see orderJsonPrefix). */
  prefix: string;
  userId: string;
  idemKey: string | undefined;
}

/** One order of a {@link Scripts.transitionOrders} call. */
export interface TransitionItem {
  id: string;
  userId: string;
  from: readonly string[];
  to: string;
  /** The next step is due in this many ms; "none": nothing is due; undefined: keep the due entry. */
  due: number | "none" | undefined;
}

/** Options of {@link Scripts}. */
export interface ScriptOptions {
  history: HistoryOptions;
  /** SPUBLISH (Redis Cluster sharded pub/sub) instead of PUBLISH. */
  sharded: boolean;
  idempotencyTtlMs: number;
}

/**
 * Every script call, its `KEYS` and `ARGV` built here by name (the `.lua` files say the order):
 * the write scripts of one partition (create, transition) and the read scripts of one stream.
 */
export class Scripts {
  private readonly conn: ScriptConn;
  private readonly opts: ScriptOptions;

  /** `opts` matter to the write scripts only; readers may leave them out. */
  constructor(conn: RedisConnection, opts: Partial<ScriptOptions> = {}) {
    this.conn = defineAll(conn);
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
      args.push(t.id, t.userId, channel, t.from.join(","), t.to, t.due === undefined ? "" : t.due === "none" ? "-" : t.due);
    }
    return this.conn.osTransitionOrders(keys.length, ...keys, ...args);
  }

  /** readHistory-2.lua: `{epoch or '', lastSeq, id, frame, id, frame, ...}` after `afterSeq`. */
  readHistory(stream: string, afterSeq: number, maxCount: number): Promise<unknown[]> {
    return this.conn.osReadHistory(historyKey(stream), metaKey(stream), afterSeq, maxCount);
  }

  /** streamPosition-1.lua: `[epoch, lastSeq]`, fixing an epoch when the stream has none. */
  streamPosition(stream: string): Promise<unknown[]> {
    return this.conn.osStreamPosition(metaKey(stream), newEpoch());
  }
}

/** The three keys of a stream a write script appends to: history, meta, pub/sub channel. */
function streamKeys(stream: string): [string, string, string] {
  return [historyKey(stream), metaKey(stream), pubsubChannel(stream)];
}
