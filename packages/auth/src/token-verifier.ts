import { type KeyObject, createPublicKey, createSecretKey } from "node:crypto";
import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { Hs256FastPath } from "./hs256-fast-path.js";
import { ANONYMOUS, AuthError, type Principal, principalOf } from "./principal.js";
import { VerifiedTokenCache } from "./verified-token-cache.js";

/** The asymmetric algorithms accepted from a JWKS or a public key file. */
export const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"] as const;
/** An asymmetric algorithm a token may be signed with. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Where a remote JSON Web Key Set comes from and how it is cached (jose's createRemoteJWKSet). */
export interface JwksSource {
  url: string;
  /** After a fetch, an unknown `kid` refetches only once this long has passed. */
  cooldownMs: number;
  /** The fetched set is refetched after this long even when every `kid` is known. */
  cacheMaxAgeMs: number;
  /** A fetch that takes longer fails (the token is refused, the next one retries). */
  timeoutMs: number;
}

/** The keys tokens are verified with (any number of sources at once; at least one to verify anything). */
export interface AuthKeys {
  /** HS256 secrets, any of which verifies (rotation: add the new one, drop the old once its tokens expired). */
  hs256Secrets: readonly string[];
  jwks: JwksSource | undefined;
  /** A PEM public key (SPKI), e.g. read from AUTH_PUBLIC_KEY_FILE. */
  publicKeyPem: string | undefined;
  /** Algorithms accepted for JWKS and public-key tokens. */
  algorithms: readonly AsymmetricAlgorithm[];
}

/** Options of {@link TokenVerifier}. */
export interface TokenVerifierOptions {
  /** Verified tokens remembered (LRU). */
  cacheSize?: number;
  /** How long a verified token is remembered at most (never past its `exp`). */
  cacheTtlMs?: number;
}

/** The signing keys could not be fetched (JWKS endpoint down or slow): not the caller's fault. */
export class KeysUnavailableError extends AuthError {
  constructor(message: string) {
    super(message);
    this.name = "KeysUnavailableError";
  }
}

/** jose errors that say "this token is bad", as opposed to "the keys could not be had". */
const TOKEN_ERRORS = [
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKInvalid,
];

/**
 * Verifies JWTs with every configured key source: HS256 with any of several secrets, RS256/ES256
 * from a remote JWKS (cached, refetched on an unknown `kid` after a cooldown) or a public key. jose
 * is the judge; in front of it a bounded memory of tokens that verified ({@link VerifiedTokenCache})
 * and a synchronous HMAC check per secret that only accepts tokens jose certainly accepts
 * ({@link Hs256FastPath}), so an ordinary HS256 token is settled without waiting.
 */
export class TokenVerifier {
  private readonly secrets: KeyObject[];
  private readonly fast: Hs256FastPath[];
  private readonly cache: VerifiedTokenCache;
  private readonly asymmetric: { key: KeyObject | JWTVerifyGetKey; algorithms: string[] } | undefined;

  constructor(keys: AuthKeys | string, opts: TokenVerifierOptions = {}) {
    const k: AuthKeys = typeof keys === "string" ? { hs256Secrets: [keys], jwks: undefined, publicKeyPem: undefined, algorithms: [] } : keys;
    this.secrets = k.hs256Secrets.map((s) => createSecretKey(Buffer.from(s, "utf8")));
    this.fast = k.hs256Secrets.map((s) => new Hs256FastPath(s));
    this.cache = new VerifiedTokenCache(opts.cacheSize ?? 1024, opts.cacheTtlMs ?? 60_000);
    const algorithms = [...k.algorithms];
    if (k.jwks && k.publicKeyPem) throw new Error("use a JWKS URL or a public key file, not both");
    if (k.jwks)
      this.asymmetric = {
        algorithms,
        key: createRemoteJWKSet(new URL(k.jwks.url), {
          cooldownDuration: k.jwks.cooldownMs,
          cacheMaxAge: k.jwks.cacheMaxAgeMs,
          timeoutDuration: k.jwks.timeoutMs,
        }),
      };
    else if (k.publicKeyPem) this.asymmetric = { algorithms, key: createPublicKey(k.publicKeyPem) };
    if (this.secrets.length === 0 && !this.asymmetric) throw new Error("no keys to verify tokens with");
  }

  /**
   * The principal of `token` when it is settled without waiting: ANONYMOUS without a token, a
   * remembered or plainly valid HS256 token's principal; undefined when jose must decide (call
   * {@link verify}), which includes every token that will be refused.
   */
  verifyNow(token: string | undefined, nowMs: number = Date.now()): Principal | undefined {
    if (token === undefined || token === "") return ANONYMOUS;
    const known = this.cache.get(token, nowMs);
    if (known !== undefined) return known;
    for (const fast of this.fast) {
      const claims = fast.accept(token, nowMs);
      if (claims === undefined) continue;
      const who = principalOf(claims.sub, claims.admin, claims.exp);
      this.cache.set(token, who, claims.exp, nowMs);
      return who;
    }
    return undefined;
  }

  /**
   * The principal of `token`; ANONYMOUS without a token; throws {@link AuthError} on a bad one
   * ({@link KeysUnavailableError} when the JWKS could not be fetched).
   */
  async verify(token: string | undefined): Promise<Principal> {
    const now = this.verifyNow(token);
    if (now !== undefined || token === undefined) return now ?? ANONYMOUS;
    const payload = await this.verifyWithJose(token);
    if (typeof payload.sub !== "string" || payload.sub === "") throw new AuthError("token has no sub");
    const who = principalOf(payload.sub, payload["admin"], payload.exp);
    this.cache.set(token, who, payload.exp, Date.now());
    return who;
  }

  private async verifyWithJose(token: string): Promise<JWTPayload> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AuthError("malformed token");
    }
    try {
      if (alg === "HS256") return await this.verifyHs256(token);
      if (this.asymmetric && typeof alg === "string" && this.asymmetric.algorithms.includes(alg)) {
        const { key, algorithms } = this.asymmetric;
        const opts = { algorithms };
        return (typeof key === "function" ? await jwtVerify(token, key, opts) : await jwtVerify(token, key, opts)).payload;
      }
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (TOKEN_ERRORS.some((E) => err instanceof E)) throw new AuthError((err as Error).message);
      throw new KeysUnavailableError(`signing keys unavailable: ${err instanceof Error ? err.message : String(err)}`);
    }
    throw new AuthError(`tokens signed with ${JSON.stringify(alg)} are not accepted`);
  }

  /** jose with each secret in turn: a wrong signature tries the next, any other failure is final. */
  private async verifyHs256(token: string): Promise<JWTPayload> {
    if (this.secrets.length === 0) throw new AuthError("HS256 tokens are not accepted (no shared secret configured)");
    for (const key of this.secrets) {
      try {
        return (await jwtVerify(token, key, { algorithms: ["HS256"] })).payload;
      } catch (err) {
        if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
      }
    }
    throw new AuthError("signature verification failed");
  }
}
