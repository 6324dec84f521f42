import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signToken } from "@orderstream/testkit";
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { authEnvFields, authKeysFromEnv } from "./auth-env.js";
import { AuthError } from "./principal.js";
import { type AuthKeys, KeysUnavailableError, TokenVerifier } from "./token-verifier.js";

interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: "RS256" | "ES256"): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

function sign(key: SigningKey, sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).setSubject(sub).setIssuedAt().setExpirationTime("10m").sign(key.privateKey);
}

/** A JWKS endpoint whose key list the test changes, counting fetches. */
let server: Server;
let published: SigningKey[] = [];
let fetches = 0;
let jwksUrl: string;
let a: SigningKey;
let b: SigningKey;
let c: SigningKey;

beforeAll(async () => {
  [a, b, c] = await Promise.all([signingKey("a", "RS256"), signingKey("b", "ES256"), signingKey("c", "RS256")]);
  server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
});

const keys = (over: Partial<AuthKeys>): AuthKeys => ({ hs256Secrets: [], jwks: undefined, publicKeyPem: undefined, algorithms: ["RS256", "ES256"], ...over });
const jwks = (cooldownMs: number) => ({ url: jwksUrl, cooldownMs, cacheMaxAgeMs: 600_000, timeoutMs: 2000 });

describe("RS256 / ES256 from a JWKS endpoint", () => {
  it("accepts RS256 and ES256 tokens, fetches a new kid on first sight, keeps the old one until it is removed, then refuses it", async () => {
    published = [a, b];
    fetches = 0;
    const v = new TokenVerifier(keys({ jwks: jwks(0) }), { cacheSize: 0 });
    expect(await v.verify(await sign(a, "rsa-user", { admin: true }))).toMatchObject({ userId: "rsa-user", admin: true });
    expect(await v.verify(await sign(b, "ec-user"))).toMatchObject({ userId: "ec-user", admin: false });
    expect(fetches).toBe(1); // one fetch for both kids

    // Rotation, step 1: the provider publishes c next to a; a token with kid c refetches the set.
    published = [a, b, c];
    expect(await v.verify(await sign(c, "rotated"))).toMatchObject({ userId: "rotated" });
    expect(fetches).toBe(2);
    expect(await v.verify(await sign(a, "still-old"))).toMatchObject({ userId: "still-old" }); // old kid still valid
    expect(fetches).toBe(2); // from the cached set

    // Step 2: a is removed; the next unknown kid refetches, after which a's tokens are refused.
    const d = await signingKey("d", "ES256");
    published = [b, c, d];
    expect(await v.verify(await sign(d, "newest"))).toMatchObject({ userId: "newest" });
    await expect(v.verify(await sign(a, "after-removal"))).rejects.toThrow(AuthError);
    await expect(v.verify(await sign(a, "after-removal"))).rejects.not.toBeInstanceOf(KeysUnavailableError);
  });

  it("refetches an unknown kid only once per cooldown", async () => {
    published = [a];
    fetches = 0;
    const v = new TokenVerifier(keys({ jwks: jwks(60_000) }));
    await v.verify(await sign(a, "x"));
    published = [a, c];
    // Fetched right before: the cooldown holds the unknown kid back instead of hammering the endpoint.
    await expect(v.verify(await sign(c, "y"))).rejects.toThrow(AuthError);
    expect(fetches).toBe(1);
  });

  it("refuses a token signed by a key the endpoint never published, and an algorithm that is not allowed", async () => {
    published = [a, b];
    const v = new TokenVerifier(keys({ jwks: jwks(0), algorithms: ["RS256"] }));
    const stranger = await signingKey("a", "RS256"); // same kid, other key
    await expect(v.verify(await sign(stranger, "mallory"))).rejects.toThrow(AuthError);
    await expect(v.verify(await sign(b, "es-not-allowed"))).rejects.toThrow(/not accepted/);
  });

  it("says the keys are unavailable (not that the token is bad) when the endpoint cannot be reached", async () => {
    const v = new TokenVerifier(keys({ jwks: { url: "http://127.0.0.1:1/jwks.json", cooldownMs: 0, cacheMaxAgeMs: 1000, timeoutMs: 1000 } }));
    await expect(v.verify(await sign(a, "x"))).rejects.toBeInstanceOf(KeysUnavailableError);
  });
});

describe("a public key file", () => {
  it("verifies RS256 (and ES256) tokens with the PEM key and refuses other keys' tokens", async () => {
    const dir = mkdtempSync(join(tmpdir(), "auth-pem-"));
    try {
      const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pemPath = join(dir, "rsa.pem");
      writeFileSync(pemPath, rsa.publicKey.export({ type: "spki", format: "pem" }));
      // As the services configure it: AUTH_PUBLIC_KEY_FILE, the algorithm inferred from the key.
      const env = z.object(authEnvFields).parse({ AUTH_PUBLIC_KEY_FILE: pemPath });
      const v = new TokenVerifier(authKeysFromEnv(env));
      const t = await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).setSubject("pem-user").setExpirationTime("5m").sign(rsa.privateKey);
      expect(await v.verify(t)).toMatchObject({ userId: "pem-user", admin: false });
      await expect(v.verify(await sign(c, "other-key"))).rejects.toThrow(AuthError);

      const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const ve = new TokenVerifier(keys({ publicKeyPem: ec.publicKey.export({ type: "spki", format: "pem" }) as string, algorithms: ["ES256"] }));
      const te = await new SignJWT({ admin: true }).setProtectedHeader({ alg: "ES256" }).setSubject("ec-pem").setExpirationTime("5m").sign(ec.privateKey);
      expect(await ve.verify(te)).toMatchObject({ userId: "ec-pem", admin: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("several HS256 secrets (rotation)", () => {
  it("accepts a token signed with any of them, at once or through jose, and refuses other secrets", async () => {
    const v = new TokenVerifier(keys({ hs256Secrets: ["new-secret", "old-secret"], algorithms: [] }));
    expect(v.verifyNow(signToken("new-secret", { sub: "n" }))).toMatchObject({ userId: "n" });
    expect(v.verifyNow(signToken("old-secret", { sub: "o" }))).toMatchObject({ userId: "o" });
    // Unusual header: jose decides, trying each secret.
    const unusual = await new SignJWT({}).setProtectedHeader({ alg: "HS256", jku: "x" } as never).setSubject("j").sign(new TextEncoder().encode("old-secret"));
    expect(await v.verify(unusual)).toMatchObject({ userId: "j" });
    await expect(v.verify(signToken("retired-secret", { sub: "r" }))).rejects.toThrow(/signature/);
    await expect(v.verify(signToken("old-secret", { sub: "late" }, -5))).rejects.toThrow(/exp/);
  });

  it("refuses HS256 tokens when only asymmetric keys are configured, and RS256 tokens with only secrets", async () => {
    published = [a];
    const onlyJwks = new TokenVerifier(keys({ jwks: jwks(0) }));
    await expect(onlyJwks.verify(signToken("any", { sub: "h" }))).rejects.toThrow(/HS256 tokens are not accepted/);
    const onlyHs = new TokenVerifier(keys({ hs256Secrets: ["s"], algorithms: [] }));
    await expect(onlyHs.verify(await sign(a, "r"))).rejects.toThrow(/not accepted/);
  });
});
