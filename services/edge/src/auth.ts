import { jwtVerify } from "jose";
import type { Channel } from "@orderstream/domain";

/** Who a socket belongs to: a verified token's subject, or nobody. */
export interface Principal {
  /** The token's `sub`; undefined for anonymous sockets. */
  userId: string | undefined;
  admin: boolean;
}

/** The principal of a socket that brought no token. */
export const ANONYMOUS: Principal = { userId: undefined, admin: false };

/** A token that was present but invalid, expired or wrongly signed. */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

/** Verifies HS256 JWTs with the shared secret (AUTH_JWT_SECRET). */
export class TokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** The principal of `token`; ANONYMOUS without a token; throws {@link AuthError} on a bad one. */
  async verify(token: string | undefined): Promise<Principal> {
    if (token === undefined || token === "") return ANONYMOUS;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"] });
      if (typeof payload.sub !== "string" || payload.sub === "") throw new AuthError("token has no sub");
      return { userId: payload.sub, admin: payload["admin"] === true };
    } catch (err) {
      if (err instanceof AuthError) throw err;
      throw new AuthError(err instanceof Error ? err.message : String(err));
    }
  }
}

/** The token of an upgrade request: `?token=` first, else `Authorization: Bearer <token>`. */
export function tokenFromRequest(queryToken: string | undefined, authorization: string): string | undefined {
  if (queryToken) return queryToken;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}

/** Whether `who` may subscribe to `channel` (DESIGN.md "Auth"). */
export function maySubscribe(who: Principal, channel: Channel, anonymousAllOrders: boolean): boolean {
  if (who.admin) return true;
  if (channel.kind === "user") return who.userId !== undefined && who.userId === channel.userId;
  return anonymousAllOrders;
}
