import { createHmac } from "node:crypto";

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");

/**
 * A short-lived HS256 admin token that a trusted service (the edge) presents to another (order-api)
 * on its own behalf: `sub` names the service, `admin` is true, `exp` is `ttlS` seconds from now.
 * Verified like any other token, so it needs a secret both sides hold (AUTH_JWT_SECRET).
 */
export function signServiceToken(secret: string, sub: string, ttlS: number, nowMs: number = Date.now()): string {
  const iat = Math.floor(nowMs / 1000);
  const signed = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ sub, admin: true, iat, exp: iat + ttlS })}`;
  return `${signed}.${createHmac("sha256", Buffer.from(secret, "utf8")).update(signed).digest("base64url")}`;
}
