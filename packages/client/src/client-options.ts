/**
 * The part of the WHATWG WebSocket the SDK uses. Browsers' WebSocket and the `ws` package both fit
 * as they are: the handler parameters are `never` here because each implementation types its own
 * event classes, and the SDK reads only `data`, `code`, `reason` and `message` from them.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
}

/** A WebSocket constructor (`globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node); the SDK offers the `orderstream.v1` subprotocol. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** A token, or a function returning one (called again before every reconnect). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

type Fits<T extends WebSocketConstructor> = T;
/** Compile-time proof that the browser's WebSocket is accepted as the `WebSocket` option. */
export type BrowserWebSocketFits = Fits<typeof WebSocket>;

/** Options of {@link OrderStreamClient}. */
export interface ClientOptions {
  /** Edge URL(s), e.g. `ws://127.0.0.1:9001/ws`; with several, each reconnect tries the next. */
  url: string | string[];
  /** Sent in the `connect` frame (never in the URL); omitted for anonymous access. A function works like {@link getToken}. */
  token?: TokenSource;
  /**
   * Returns a fresh token (JWT), sent in the `connect` frame: called before every (re)connect, and
   * `refreshMarginMs` before the token's `exp` to send a `refresh` frame on the open socket. After a
   * 4005 "token expired" close the SDK calls it again and reconnects; after a 4001 "unauthorized"
   * it asks once more and stops with an `error` event if that token is refused too. Use instead of `token`.
   */
  getToken?: () => string | Promise<string>;
  /** How long before the token's `exp` to refresh it, ms (default 30000; at most half its remaining life). */
  refreshMarginMs?: number;
  /** The WebSocket implementation; defaults to `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Base of the reconnect backoff, ms (default 500). */
  minReconnectDelayMs?: number;
  /** Cap of the reconnect backoff, ms (default 20000). */
  maxReconnectDelayMs?: number;
  /** A connection open this long resets the backoff, ms (default 10000). */
  stableAfterMs?: number;
  /** A socket not open (and `connected`, with a token) after this long is abandoned and retried, ms (default 10000). */
  connectTimeoutMs?: number;
  /** How long a request (`subscribe`, `processOrder`, `refresh`) waits for its reply, ms (default 10000). */
  requestTimeoutMs?: number;
  /** Offsets to resume from on the first subscribe (e.g. saved by a previous page via `client.offsets()`). */
  offsets?: Record<string, string>;
  /** Source of randomness for the backoff jitter (tests). */
  random?: () => number;
}

/** {@link ClientOptions} with every default filled in. */
export interface ResolvedOptions {
  urls: string[];
  token: TokenSource | undefined;
  refreshMarginMs: number;
  WebSocket: WebSocketConstructor;
  minReconnectDelayMs: number;
  maxReconnectDelayMs: number;
  stableAfterMs: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  offsets: Record<string, string>;
  random: () => number;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`option ${name} must be a finite number >= 0, got ${String(v)}`);
  return x;
}

/** Checks the options and fills in defaults; throws naming the bad option. */
export function resolveOptions(o: ClientOptions): ResolvedOptions {
  const urls = Array.isArray(o.url) ? [...o.url] : [o.url];
  if (urls.length === 0 || urls.some((u) => typeof u !== "string" || !/^wss?:\/\//.test(u)))
    throw new TypeError("option url must be one or more ws:// or wss:// URLs");
  const WS = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WS !== "function")
    throw new TypeError("no WebSocket implementation: pass option WebSocket (in Node: `import { WebSocket } from \"ws\"`)");
  const min = positive("minReconnectDelayMs", o.minReconnectDelayMs, 500);
  const max = positive("maxReconnectDelayMs", o.maxReconnectDelayMs, 20_000);
  if (max < min) throw new RangeError("option maxReconnectDelayMs must be >= minReconnectDelayMs");
  if (o.getToken !== undefined && o.token !== undefined) throw new TypeError("options token and getToken exclude each other: pass one");
  if (o.getToken !== undefined && typeof o.getToken !== "function") throw new TypeError("option getToken must be a function");
  return {
    urls,
    token: o.getToken ?? o.token,
    refreshMarginMs: positive("refreshMarginMs", o.refreshMarginMs, 30_000),
    WebSocket: WS,
    minReconnectDelayMs: min,
    maxReconnectDelayMs: max,
    stableAfterMs: positive("stableAfterMs", o.stableAfterMs, 10_000),
    connectTimeoutMs: positive("connectTimeoutMs", o.connectTimeoutMs, 10_000),
    requestTimeoutMs: positive("requestTimeoutMs", o.requestTimeoutMs, 10_000),
    offsets: { ...(o.offsets ?? {}) },
    random: o.random ?? Math.random,
  };
}

/** The token for the next attempt: calls a provider function (bounded by `timeoutMs`) or returns the string. */
export async function resolveToken(source: TokenSource | undefined, timeoutMs: number): Promise<string | undefined> {
  if (typeof source !== "function") return source;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`token provider did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(source), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
