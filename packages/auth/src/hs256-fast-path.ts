import { type KeyObject, createHmac, createSecretKey, timingSafeEqual } from "node:crypto";

/** The claims the edge reads from a token that passed {@link Hs256FastPath.accept}. */
export interface AcceptedClaims {
  sub: string;
  admin: boolean;
  /** The `exp` claim, if any. */
  exp: number | undefined;
}

const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;
/** Header parameters jose ignores when verifying (no `crit`, no `b64`, nothing it acts on). */
const PLAIN_HEADER_KEYS = new Set(["alg", "typ", "kid"]);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The JSON object a canonical base64url segment holds, else undefined. */
function jsonSegment(segment: string): Record<string, unknown> | undefined {
  const bytes = Buffer.from(segment, "base64url");
  if (bytes.toString("base64url") !== segment) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * A synchronous HS256 check that only ever ACCEPTS: a token it returns claims for is one jose's
 * `jwtVerify(token, key, { algorithms: ["HS256"] })` (plus a non-empty string `sub`) accepts too:
 * canonical base64url segments, a header of only alg HS256 / typ / kid, a valid HMAC (compared in
 * constant time), numeric iat/nbf/exp checked by jose's rules. Anything else, good or bad, returns
 * undefined and goes to jose, which stays the judge of every rejection and every unusual token.
 */
export class Hs256FastPath {
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret, "utf8"));
  }

  /** The claims of `token` when it certainly verifies at `nowMs`; undefined: ask jose. */
  accept(token: string, nowMs: number): AcceptedClaims | undefined {
    const m = COMPACT.exec(token);
    if (!m) return undefined;
    const [, head = "", body = "", sig = ""] = m;
    const mac = createHmac("sha256", this.key).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, "base64url");
    if (given.length !== mac.length || !timingSafeEqual(given, mac) || mac.toString("base64url") !== sig) return undefined;
    const header = jsonSegment(head);
    if (header?.["alg"] !== "HS256" || !Object.keys(header).every((k) => PLAIN_HEADER_KEYS.has(k))) return undefined;
    const claims = jsonSegment(body);
    if (!claims) return undefined;
    const { sub, iat, nbf, exp } = claims;
    if (typeof sub !== "string" || sub === "") return undefined;
    for (const t of [iat, nbf, exp]) if (t !== undefined && typeof t !== "number") return undefined;
    // jose: now = floor(epoch seconds); not yet valid when nbf > now, expired when exp <= now.
    const now = Math.floor(nowMs / 1000);
    if ((nbf !== undefined && (nbf as number) > now) || (exp !== undefined && (exp as number) <= now)) return undefined;
    return { sub, admin: claims["admin"] === true, exp: exp as number | undefined };
  }
}
