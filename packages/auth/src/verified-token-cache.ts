import type { Principal } from "./principal.js";

interface Entry {
  who: Principal;
  /** First instant (epoch ms) the entry may no longer be used: its token's expiry or the TTL. */
  staleAtMs: number;
}

/**
 * A bounded, short-lived LRU of tokens that verified, so a client (or a load tool) that reconnects
 * with the same token skips the signature check and shares one frozen {@link Principal}. Only
 * successes are kept; an entry goes stale when its token expires (the same `exp` rule jose
 * applies: valid while `exp` > the current epoch second) or after `ttlMs`, whichever comes first.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  /** Tokens remembered (stale ones included until looked up or evicted). */
  get size(): number {
    return this.entries.size;
  }

  /** The principal of a token that verified and is still valid at `nowMs`, else undefined. */
  get(token: string, nowMs: number): Principal | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    this.entries.delete(token);
    if (nowMs >= e.staleAtMs) return undefined;
    this.entries.set(token, e); // most recently used last
    return e.who;
  }

  /** Remembers that `token` verified at `nowMs` as `who`; `expS` is its `exp` claim, if any. */
  set(token: string, who: Principal, expS: number | undefined, nowMs: number): void {
    // jose: expired when exp <= floor(now / 1000), i.e. valid while now < ceil(exp) seconds.
    const expiresAtMs = expS === undefined ? Number.POSITIVE_INFINITY : Math.ceil(expS) * 1000;
    this.entries.delete(token);
    this.entries.set(token, { who: Object.freeze(who), staleAtMs: Math.min(nowMs + this.ttlMs, expiresAtMs) });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
