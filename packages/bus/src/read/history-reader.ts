import type { StreamPosition } from "@orderstream/wire";
import type { HistoryRead } from "./broker.js";
import { metaKey } from "../layout/keys.js";
import { ReadScripts } from "./read-scripts.js";
import { guardRedis } from "../runtime/redis-errors.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

/**
 * Reads channel history for resumes and gap repair. A resume is `recovered` only when the epoch
 * matches and every event since the asked offset is still in the capped stream; anything else is
 * reported as not recovered, never as a silent gap.
 */
export class HistoryReader {
  private readonly scripts: ReadScripts;

  constructor(private readonly conn: RedisConnection) {
    this.scripts = new ReadScripts(conn);
  }

  /** The events of `channel` after `since`, at most `maxCount` of them. */
  async readSince(channel: string, since: StreamPosition, maxCount: number): Promise<HistoryRead> {
    const reply = await guardRedis(() => this.scripts.readHistory(channel, since.seq, maxCount));
    const epoch = String(reply[0] ?? "");
    const lastSeq = Number(reply[1] ?? 0);
    const top = { epoch, seq: lastSeq };
    if (epoch === "" || epoch !== since.epoch || since.seq > lastSeq) return { recovered: false, frames: [], top };
    const frames: string[] = [];
    let expected = since.seq + 1;
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const id = String(reply[i]);
      if (Number(id.slice(0, id.indexOf("-"))) !== expected) return { recovered: false, frames: [], top };
      frames.push(String(reply[i + 1]));
      expected++;
    }
    if (expected !== lastSeq + 1) return { recovered: false, frames: [], top };
    return { recovered: true, frames, top };
  }

  /** The channel's current position, for clients that subscribe without an offset. */
  async position(channel: string): Promise<StreamPosition> {
    const [e, s] = await guardRedis(() => this.conn.hmget(metaKey(channel), "e", "s"));
    return { epoch: e ?? "", seq: Number(s ?? 0) };
  }
}
