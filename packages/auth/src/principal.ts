/**
 * Who a connection or a call belongs to: a verified token's subject, or nobody. Shared between
 * every socket that brought the same token: frozen, never mutated.
 */
export interface Principal {
  /** The token's `sub`; undefined for anonymous sockets. */
  readonly userId: string | undefined;
  readonly admin: boolean;
  /** The token's `exp` (epoch seconds); undefined for anonymous sockets and tokens without one. */
  readonly exp: number | undefined;
}

/** The principal of a socket that brought no token (one object for all of them). */
export const ANONYMOUS: Principal = Object.freeze({ userId: undefined, admin: false, exp: undefined });

/** A token that was present but invalid, expired or wrongly signed; the message says why. */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

/** The principal a token's claims describe (`admin` only when the claim is exactly `true`). */
export function principalOf(sub: string, admin: unknown, exp: unknown): Principal {
  return Object.freeze({ userId: sub, admin: admin === true, exp: typeof exp === "number" ? exp : undefined });
}

/**
 * The token of an `authorization` value: `Bearer <token>` (case-insensitive scheme), else
 * undefined. Used for the edge's upgrade header and order-api's gRPC metadata alike.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization === "") return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}
