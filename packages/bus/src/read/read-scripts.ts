import { newEpoch } from "../layout/history-options.js";
import { historyKey, metaKey } from "../layout/keys.js";
import { type ScriptConn, defineScripts } from "../layout/lua-loader.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

const COMMANDS = { osReadHistory: "readHistory-2", osStreamPosition: "streamPosition-1" } as const;

/** The read path's script calls on one stream, their `KEYS` and `ARGV` built here by name. */
export class ReadScripts {
  private readonly conn: ScriptConn<keyof typeof COMMANDS>;

  constructor(conn: RedisConnection) {
    this.conn = defineScripts(conn, COMMANDS);
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
