import { createHmac } from "node:crypto";

const b64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");

/** An HS256 JWT for tests and the launcher: `claims` plus `iat` and `exp` (default 1 hour). */
export function signToken(secret: string, claims: Record<string, unknown>, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ iat: now, exp: now + ttlSeconds, ...claims }));
  const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${sig}`;
}
