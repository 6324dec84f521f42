import { createHmac } from "node:crypto";

function b64url(input: string | Buffer): string {
  return Buffer.from(input).toString("base64url");
}

/** Signs an HS256 JWT with the given claims (iat/exp added: valid for `ttlS` seconds). */
export function signJwt(claims: Record<string, unknown>, secret: string, ttlS = 86_400): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ iat: now, exp: now + ttlS, ...claims }));
  const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${sig}`;
}

/** Hands out the token for each kind of connection: a fixed one, or self-signed ones. */
export class TokenSource {
  private readonly cache = new Map<string, string>();

  constructor(private readonly fixed: string | undefined, private readonly secret: string | undefined) {}

  /** Token for the all-orders channels (admin when self-signed); undefined when none configured. */
  admin(): string | undefined {
    if (this.fixed !== undefined) return this.fixed;
    if (this.secret === undefined) return undefined;
    return this.cached("\u0000admin", () => signJwt({ sub: "orderstream-load", admin: true }, this.secret as string));
  }

  /**
   * Token whose `sub` is `userId` (the fixed token when one was given). Signed anew each time (a
   * few microseconds): a cache would hold a token per user, and a run may have a million users.
   */
  user(userId: string): string | undefined {
    if (this.fixed !== undefined) return this.fixed;
    if (this.secret === undefined) return undefined;
    return signJwt({ sub: userId }, this.secret);
  }

  private cached(key: string, make: () => string): string {
    let t = this.cache.get(key);
    if (t === undefined) {
      t = make();
      this.cache.set(key, t);
    }
    return t;
  }
}
