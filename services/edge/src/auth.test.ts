import { createHmac } from "node:crypto";
import { signToken } from "@orderstream/testkit";
import { describe, expect, it } from "vitest";
import { ANONYMOUS, AuthError, TokenVerifier, tokenFromRequest } from "./auth.js";

const SECRET = "unit-secret";
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
/** A JWT with any header, signed with HMAC-SHA256 over `secret` (or unsigned when `secret` is undefined). */
function rawToken(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string | undefined): string {
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${secret === undefined ? "" : createHmac("sha256", secret).update(body).digest("base64url")}`;
}
const nowS = (): number => Math.floor(Date.now() / 1000);

describe("TokenVerifier", () => {
  it("accepts a good HS256 token and answers later sockets with the same token from memory", async () => {
    const v = new TokenVerifier(SECRET);
    const token = signToken(SECRET, { sub: "alice", admin: true });
    expect(v.known(token)).toBeUndefined();
    const who = await v.verify(token);
    expect(who).toEqual({ userId: "alice", admin: true });
    expect(Object.isFrozen(who)).toBe(true);
    expect(v.known(token)).toBe(who);
    expect(await v.verify(token)).toBe(who);
  });

  it("treats no token as anonymous", async () => {
    const v = new TokenVerifier(SECRET);
    expect(v.known(undefined)).toBe(ANONYMOUS);
    expect(v.known("")).toBe(ANONYMOUS);
    expect(await v.verify(undefined)).toBe(ANONYMOUS);
    expect(Object.isFrozen(ANONYMOUS)).toBe(true);
  });

  it.each([
    ["alg none", rawToken({ alg: "none", typ: "JWT" }, { sub: "mallory", exp: nowS() + 60 }, undefined)],
    ["another HMAC alg", rawToken({ alg: "HS512", typ: "JWT" }, { sub: "mallory", exp: nowS() + 60 }, SECRET)],
    ["a bad signature", signToken("other-secret", { sub: "mallory" })],
    ["an expired token", signToken(SECRET, { sub: "mallory" }, -10)],
    ["a token expiring this second", rawToken({ alg: "HS256" }, { sub: "mallory", exp: nowS() }, SECRET)],
    ["a token not valid yet", signToken(SECRET, { sub: "mallory", nbf: nowS() + 60 })],
    ["a token without sub", signToken(SECRET, { admin: true })],
    ["a token with an empty sub", signToken(SECRET, { sub: "" })],
    ["a token with a numeric sub", signToken(SECRET, { sub: 42 })],
    ["garbage", "not.a.jwt"],
  ])("rejects %s, and does not remember it", async (_name, token) => {
    const v = new TokenVerifier(SECRET);
    await expect(v.verify(token)).rejects.toBeInstanceOf(AuthError);
    expect(v.known(token)).toBeUndefined();
  });

  it("forgets a remembered token once it expires, by the same rule as jose", async () => {
    const v = new TokenVerifier(SECRET);
    const exp = nowS() + 5;
    const token = rawToken({ alg: "HS256" }, { sub: "bob", exp }, SECRET);
    await v.verify(token);
    expect(v.known(token, exp * 1000 - 1)).toEqual({ userId: "bob", admin: false });
    expect(v.known(token, exp * 1000)).toBeUndefined();
  });

  it("forgets a remembered token after the cache TTL, and keeps at most cacheSize tokens", async () => {
    const v = new TokenVerifier(SECRET, { cacheSize: 2, cacheTtlMs: 1000 });
    const [a, b, c] = ["a", "b", "c"].map((sub) => signToken(SECRET, { sub }));
    for (const t of [a, b, c]) await v.verify(t as string);
    expect(v.known(a)).toBeUndefined();
    expect(v.known(c)?.userId).toBe("c");
    expect(v.known(b, Date.now() + 1000)).toBeUndefined();
  });
});

describe("tokenFromRequest", () => {
  it("takes the query token first, else a Bearer header", () => {
    expect(tokenFromRequest("q", "Bearer h")).toBe("q");
    expect(tokenFromRequest(undefined, "bearer  h ")).toBe("h");
    expect(tokenFromRequest(undefined, "")).toBeUndefined();
    expect(tokenFromRequest(undefined, "Basic x")).toBeUndefined();
  });
});
