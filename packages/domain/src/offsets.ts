/**
 * A position in a channel's history: the channel's epoch (changes when Redis lost the history,
 * e.g. flushed or replaced) and a sequence number that grows by one per event. On the wire it is
 * the opaque string `<epoch>:<seq>`.
 */
export interface StreamPosition {
  epoch: string;
  seq: number;
}

/** Formats a position as its opaque offset string. */
export function formatOffset(pos: StreamPosition): string {
  return `${pos.epoch}:${pos.seq}`;
}

/** Parses an offset string; undefined when malformed. */
export function parseOffset(offset: unknown): StreamPosition | undefined {
  if (typeof offset !== "string" || offset.length > 64) return undefined;
  const m = /^([A-Za-z0-9]{1,32}):(\d{1,15})$/.exec(offset);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { epoch: m[1], seq: Number(m[2]) };
}
