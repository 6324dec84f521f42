import { createHmac } from "node:crypto";
import { signToken } from "@orderstream/testkit";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { Hs256FastPath } from "./hs256-fast-path.js";
import { ANONYMOUS, AuthError, bearerToken } from "./principal.js";
import { TokenVerifier } from "./token-verifier.js";

const SECRET = "unit-secret";
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
/** A JWT with any header, signed with HMAC-SHA256 over `secret` (or unsigned when `secret` is undefined). */
function rawToken(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string | undefined): string {
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${secret === undefined ? "" : createHmac("sha256", secret).update(body).digest("base64url")}`;
}
const nowS = (): number => Math.floor(Date.now() / 1000);

describe("TokenVerifier", () => {
  it("accepts a good HS256 token at once and answers later sockets with the same token from memory", async () => {
    const v = new TokenVerifier(SECRET);
    const token = signToken(SECRET, { sub: "alice", admin: true });
    const who = v.verifyNow(token);
    expect(who).toMatchObject({ userId: "alice", admin: true });
    expect(Object.isFrozen(who)).toBe(true);
    expect(v.verifyNow(token)).toBe(who);
    expect(await v.verify(token)).toBe(who);
  });

  it("leaves unusual but valid tokens to jose, which accepts them", async () => {
    const v = new TokenVerifier(SECRET);
    const token = rawToken({ alg: "HS256", jku: "https://example.invalid" }, { sub: "carol", exp: nowS() + 60 }, SECRET);
    expect(v.verifyNow(token)).toBeUndefined();
    expect(await v.verify(token)).toMatchObject({ userId: "carol", admin: false });
    expect(v.verifyNow(token)).toMatchObject({ userId: "carol", admin: false });
  });

  it("treats no token as anonymous", async () => {
    const v = new TokenVerifier(SECRET);
    expect(v.verifyNow(undefined)).toBe(ANONYMOUS);
    expect(v.verifyNow("")).toBe(ANONYMOUS);
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
    ["a signature with a character more", `${signToken(SECRET, { sub: "mallory" })}A`],
    ["a header with crit", rawToken({ alg: "HS256", crit: ["exp"] }, { sub: "mallory" }, SECRET)],
    ["a non-numeric exp", rawToken({ alg: "HS256" }, { sub: "mallory", exp: String(nowS() + 60) }, SECRET)],
    ["a payload that is not an object", rawToken({ alg: "HS256" }, ["mallory"] as unknown as Record<string, unknown>, SECRET)],
  ])("rejects %s, and does not remember it", async (_name, token) => {
    const v = new TokenVerifier(SECRET);
    expect(v.verifyNow(token)).toBeUndefined();
    await expect(v.verify(token)).rejects.toBeInstanceOf(AuthError);
    expect(v.verifyNow(token)).toBeUndefined();
  });

  it("forgets a remembered token once it expires, by the same rule as jose", async () => {
    const v = new TokenVerifier(SECRET);
    const exp = nowS() + 5;
    const token = rawToken({ alg: "HS256" }, { sub: "bob", exp }, SECRET);
    await v.verify(token);
    expect(v.verifyNow(token, exp * 1000 - 1)).toEqual({ userId: "bob", admin: false, exp });
    expect(v.verifyNow(token, exp * 1000)).toBeUndefined();
  });

  it("forgets a remembered token after the cache TTL", async () => {
    const v = new TokenVerifier(SECRET, { cacheTtlMs: 1000 });
    const b = signToken(SECRET, { sub: "b" });
    await v.verify(b);
    expect(v.verifyNow(b, Date.now() + 1000)).toMatchObject({ userId: "b", admin: false }); // checked again, not remembered
    expect(v.verifyNow(b, Date.now() + 3_600_000)).toBeUndefined(); // expired: left to jose
  });

  it("remembers at most cacheSize tokens", async () => {
    const v = new TokenVerifier(SECRET, { cacheSize: 2 });
    const [a, b, c] = ["a", "b", "c"].map((sub) => rawToken({ alg: "HS256", jku: "x" }, { sub }, SECRET)); // jose-only tokens
    for (const t of [a, b, c]) await v.verify(t as string);
    expect(v.verifyNow(a)).toBeUndefined();
    expect(v.verifyNow(b)?.userId).toBe("b");
    expect(v.verifyNow(c)?.userId).toBe("c");
  });
});

describe("bearerToken", () => {
  it("takes the token of a Bearer value, case-insensitively, and nothing else", () => {
    expect(bearerToken("Bearer h")).toBe("h");
    expect(bearerToken("bearer  h ")).toBe("h");
    expect(bearerToken("")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken("Basic x")).toBeUndefined();
  });
});

describe("Hs256FastPath", () => {
  const key = new TextEncoder().encode(SECRET);
  const joseAccepts = (t: string): Promise<boolean> =>
    jwtVerify(t, key, { algorithms: ["HS256"] }).then(
      ({ payload }) => typeof payload.sub === "string" && payload.sub !== "",
      () => false,
    );
  const sign = (header: unknown, body: string): string => {
    const signed = `${b64(header)}.${Buffer.from(body).toString("base64url")}`;
    return `${signed}.${createHmac("sha256", SECRET).update(signed).digest("base64url")}`;
  };

  it("accepts only what jose accepts, and the plain tokens jose accepts (every header x claims pair, signed)", async () => {
    const now = nowS();
    const headers = [
      { alg: "HS256" }, { alg: "HS256", typ: "JWT" }, { alg: "HS256", kid: 1 }, { alg: "HS256", typ: 5 },
      { alg: "HS256", crit: ["b64"], b64: false }, { alg: "HS256", jku: "x" }, { alg: "hs256" }, { alg: "none" }, { alg: "HS384" }, [],
    ];
    const bodies = [
      { sub: "x" }, { sub: "x", admin: true }, { sub: "" }, { sub: 1 }, { sub: "x", exp: now + 10 }, { sub: "x", exp: now },
      { sub: "x", exp: `${now + 10}` }, { sub: "x", nbf: now + 10 }, { sub: "x", nbf: now }, { sub: "x", iat: "x" }, { sub: "x", iat: now },
      { sub: "x", exp: now + 0.5 },
    ].map((c) => JSON.stringify(c));
    bodies.push("[]", "null", '"x"', '{"sub":"x"', '{"sub":"x","exp":1e999}', '{"sub":"\u00e9"}', "{\"sub\":\"x\"}\u0000");
    let fastCount = 0;
    for (const h of headers)
      for (const body of bodies) {
        const t = sign(h, body);
        const fast = new Hs256FastPath(SECRET).accept(t, Date.now()) !== undefined;
        const jose = await joseAccepts(t);
        if (fast) fastCount++;
        expect(!fast || jose, `fast path accepted what jose refuses: ${JSON.stringify(h)} ${body}`).toBe(true);
        const plain = !Array.isArray(h) && (h as { alg?: unknown }).alg === "HS256" && Object.keys(h).every((k) => ["alg", "typ", "kid"].includes(k));
        if (plain) expect(fast, `fast path left a plain token to jose: ${JSON.stringify(h)} ${body}`).toBe(jose);
      }
    expect(fastCount).toBeGreaterThan(20);
  });

  it("never accepts a mutated token jose refuses", async () => {
    const fast = new Hs256FastPath(SECRET);
    const seeds = [signToken(SECRET, { sub: "dave", admin: true }), sign({ alg: "HS256", typ: "JWT", kid: "k1" }, JSON.stringify({ sub: "erin", exp: nowS() + 30 }))];
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/";
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const t of seeds) expect(fast.accept(t, Date.now())).toBeDefined();
    for (let i = 0; i < 1500; i++) {
      const base = seeds[i % seeds.length] as string;
      const at = rand(base.length + 1);
      const ch = alphabet[rand(alphabet.length)] as string;
      const op = rand(3);
      const t = op === 0 ? base.slice(0, at) + ch + base.slice(at + 1) : op === 1 ? base.slice(0, at) + ch + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
      if (t === base || fast.accept(t, Date.now()) === undefined) continue;
      expect(await joseAccepts(t), t).toBe(true);
    }
  });
});
