import { webcrypto } from "node:crypto";
import type { Channel } from "@orderstream/domain";
import { jwtVerify } from "jose";
import { Hs256FastPath } from "./hs256-fast-path.js";
import { VerifiedTokenCache } from "./verified-token-cache.js";

/** Who a socket belongs to: a verified token's subject, or nobody. Shared between sockets: frozen. */
export interface Principal {
  /** The token's `sub`; undefined for anonymous sockets. */
  readonly userId: string | undefined;
  readonly admin: boolean;
}

/** The principal of a socket that brought no token (one object for all of them). */
export const ANONYMOUS: Principal = Object.freeze({ userId: undefined, admin: false });

/** A token that was present but invalid, expired or wrongly signed. */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

/** Options of {@link TokenVerifier}. */
export interface TokenVerifierOptions {
  /** Verified tokens remembered (LRU). */
  cacheSize?: number;
  /** How long a verified token is remembered at most (never past its `exp`). */
  cacheTtlMs?: number;
}

/**
 * Verifies HS256 JWTs with the shared secret (AUTH_JWT_SECRET). jose is the judge; in front of it
 * a bounded memory of tokens that verified ({@link VerifiedTokenCache}) and a synchronous HMAC
 * check that only accepts tokens jose certainly accepts ({@link Hs256FastPath}), so an ordinary
 * token is settled inside the upgrade handler. jose's key is imported once.
 */
export class TokenVerifier {
  private readonly key: Promise<webcrypto.CryptoKey>;
  private readonly fast: Hs256FastPath;
  private readonly cache: VerifiedTokenCache;

  constructor(secret: string, opts: TokenVerifierOptions = {}) {
    this.key = webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    // Surfaces as an AuthError on the first verify instead of an unhandled rejection now.
    this.key.catch(() => undefined);
    this.fast = new Hs256FastPath(secret);
    this.cache = new VerifiedTokenCache(opts.cacheSize ?? 1024, opts.cacheTtlMs ?? 60_000);
  }

  /**
   * The principal of `token` when it is settled without waiting: ANONYMOUS without a token, a
   * remembered or plainly valid token's principal; undefined when jose must decide (call
   * {@link verify}), which includes every token that will be refused.
   */
  verifyNow(token: string | undefined, nowMs: number = Date.now()): Principal | undefined {
    if (token === undefined || token === "") return ANONYMOUS;
    const known = this.cache.get(token, nowMs);
    if (known !== undefined) return known;
    const claims = this.fast.accept(token, nowMs);
    if (claims === undefined) return undefined;
    const who: Principal = { userId: claims.sub, admin: claims.admin };
    this.cache.set(token, who, claims.exp, nowMs);
    return who;
  }

  /** The principal of `token`; ANONYMOUS without a token; throws {@link AuthError} on a bad one. */
  async verify(token: string | undefined): Promise<Principal> {
    const now = this.verifyNow(token);
    if (now !== undefined || token === undefined) return now ?? ANONYMOUS;
    try {
      const { payload } = await jwtVerify(token, await this.key, { algorithms: ["HS256"] });
      if (typeof payload.sub !== "string" || payload.sub === "") throw new AuthError("token has no sub");
      const who: Principal = { userId: payload.sub, admin: payload["admin"] === true };
      this.cache.set(token, who, payload.exp, Date.now());
      return who;
    } catch (err) {
      if (err instanceof AuthError) throw err;
      throw new AuthError(err instanceof Error ? err.message : String(err));
    }
  }
}

/** The token of an upgrade request: `?token=` first, else `Authorization: Bearer <token>`. */
export function tokenFromRequest(queryToken: string | undefined, authorization: string): string | undefined {
  if (queryToken) return queryToken;
  if (authorization === "") return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}

/** Whether `who` may subscribe to `channel` (DESIGN.md "Auth"). */
export function maySubscribe(who: Principal, channel: Channel, anonymousAllOrders: boolean): boolean {
  if (who.admin) return true;
  if (channel.kind === "user") return who.userId !== undefined && who.userId === channel.userId;
  return anonymousAllOrders;
}
