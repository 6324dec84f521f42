import type { CompressOptions } from "uWebSockets.js";
import type { Uws } from "./native-uws.js";

/**
 * EDGE_COMPRESSION's values: `off`, `shared` (uWS's shared compressor: no memory per socket, each
 * frame deflated on its own) or `dedicated-<size>` (a sliding window per socket kept between frames:
 * smaller frames, that much more memory per socket).
 */
export const COMPRESSION_MODES = [
  "off",
  "shared",
  "dedicated-3kb",
  "dedicated-4kb",
  "dedicated-8kb",
  "dedicated-16kb",
  "dedicated-32kb",
  "dedicated-64kb",
  "dedicated-128kb",
  "dedicated-256kb",
] as const;

/** One EDGE_COMPRESSION value. */
export type CompressionMode = (typeof COMPRESSION_MODES)[number];

type DedicatedKey = `DEDICATED_COMPRESSOR_${string}KB`;

/**
 * The `compression` option of the node's `ws()` behavior for a mode. Frames from clients are always
 * inflated with the shared decompressor (uWS then asks each client for `client_no_context_takeover`,
 * so no socket holds an inflate window): the clients send a few small requests, the node sends the bulk.
 */
export function uwsCompression(uWS: Uws, mode: CompressionMode): CompressOptions {
  if (mode === "off") return uWS.DISABLED;
  if (mode === "shared") return uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR;
  const key = `DEDICATED_COMPRESSOR_${mode.slice("dedicated-".length, -2)}KB` as DedicatedKey;
  const compressor = (uWS as unknown as Record<DedicatedKey, CompressOptions | undefined>)[key];
  if (compressor === undefined) throw new Error(`EDGE_COMPRESSION=${mode}: this uWebSockets.js build has no ${key}`);
  return compressor | uWS.SHARED_DECOMPRESSOR;
}
