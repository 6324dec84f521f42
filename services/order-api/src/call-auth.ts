import { type Metadata, status } from "@grpc/grpc-js";
import { AuthError, KeysUnavailableError, type Principal, type TokenVerifier, bearerToken } from "@orderstream/auth";
import { ApiError } from "./api-error.js";

/** The caller of an RPC when ORDER_API_AUTH=off: unchecked, allowed everything (the local demo). */
export const UNCHECKED: Principal = Object.freeze({ userId: undefined, admin: true, exp: undefined });

/**
 * Who is calling (ORDER_API_AUTH): with a verifier (`jwt`), the bearer token of the call's
 * `authorization` metadata, verified with the same keys as the edge; without one (`off`), everyone
 * is {@link UNCHECKED}. Health and reflection never ask. A token is checked when its call starts;
 * a stream outlives its token's `exp`.
 */
export class CallAuth {
  constructor(private readonly verifier: TokenVerifier | undefined) {}

  /** The caller of a call with `metadata`; throws an UNAUTHENTICATED (or UNAVAILABLE) ApiError. */
  async caller(metadata: Metadata): Promise<Principal> {
    if (!this.verifier) return UNCHECKED;
    const values = metadata.get("authorization");
    if (values.length === 0)
      throw new ApiError(status.UNAUTHENTICATED, "missing token: send metadata `authorization: Bearer <JWT>` (ORDER_API_AUTH=jwt)");
    const token = bearerToken(String(values[0]));
    if (token === undefined) throw new ApiError(status.UNAUTHENTICATED, "authorization metadata must be `Bearer <JWT>`");
    try {
      return await this.verifier.verify(token);
    } catch (err) {
      if (err instanceof KeysUnavailableError) throw new ApiError(status.UNAVAILABLE, "token signing keys unavailable, retry later");
      if (err instanceof AuthError) throw new ApiError(status.UNAUTHENTICATED, `invalid token: ${err.message}`);
      throw err;
    }
  }
}

/** CreateOrder / BulkCreateOrders: a user creates orders for itself only; admins for anyone. */
export function requireOwnOrders(who: Principal, userId: string): void {
  if (who.admin || who.userId === userId) return;
  throw new ApiError(
    status.PERMISSION_DENIED,
    `user_id: the token's user ${JSON.stringify(who.userId)} may create orders only for itself, not for ${JSON.stringify(userId.slice(0, 64))}`,
  );
}

/** SubscribeOrders: a user streams its own orders (user_id set to its own id); all orders need admin. */
export function requireSubscribable(who: Principal, userId: string): void {
  if (who.admin) return;
  if (userId === "")
    throw new ApiError(status.PERMISSION_DENIED, `SubscribeOrders without user_id needs an admin token; set user_id to ${JSON.stringify(who.userId)}`);
  if (userId !== who.userId)
    throw new ApiError(status.PERMISSION_DENIED, `user_id: the token's user ${JSON.stringify(who.userId)} may stream only its own orders`);
}

/** ProcessOrders: admins only (the edge calls it with its own service token). */
export function requireAdmin(who: Principal, rpc: string): void {
  if (!who.admin) throw new ApiError(status.PERMISSION_DENIED, `${rpc} needs an admin token (claim "admin": true)`);
}
