import { type Principal, bearerToken } from "@orderstream/auth";
import type { Channel } from "@orderstream/wire";

export { ANONYMOUS, AuthError, KeysUnavailableError, type Principal, TokenVerifier } from "@orderstream/auth";

/** The token of an upgrade request: `?token=` first, else `Authorization: Bearer <token>`. */
export function tokenFromRequest(queryToken: string | undefined, authorization: string): string | undefined {
  if (queryToken) return queryToken;
  return bearerToken(authorization);
}

/** Whether `who` may subscribe to `channel` (docs/protocol.md, "Channels and who may join them"). */
export function maySubscribe(who: Principal, channel: Channel, anonymousAllOrders: boolean): boolean {
  if (who.admin) return true;
  if (channel.kind === "user") return who.userId !== undefined && who.userId === channel.userId;
  return anonymousAllOrders;
}
