import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { authEnvFields, authEnvProblem, authKeysFromEnv, hasAuthKeys } from "./auth-env.js";

const dir = mkdtempSync(join(tmpdir(), "auth-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const schema = z.object(authEnvFields);
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("the AUTH_* variables", () => {
  it("split comma-separated HS256 secrets and refuse an empty one", () => {
    const c = schema.parse({ AUTH_JWT_SECRET: "new, old" });
    expect(authKeysFromEnv(c)).toMatchObject({ hs256Secrets: ["new", "old"], jwks: undefined, publicKeyPem: undefined, algorithms: [] });
    expect(schema.safeParse({ AUTH_JWT_SECRET: "a,,b" }).error?.issues[0]).toMatchObject({ path: ["AUTH_JWT_SECRET"], message: /empty secret/ });
  });

  it("infer RS256 / ES256 from the key file, and name the variable when the file is missing or not a public key", () => {
    const rsa = write("rsa.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }) as string);
    const ec = write("ec.pem", generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }) as string);
    const ed = write("ed.pem", generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string);
    expect(authKeysFromEnv(schema.parse({ AUTH_PUBLIC_KEY_FILE: rsa })).algorithms).toEqual(["RS256"]);
    expect(authKeysFromEnv(schema.parse({ AUTH_PUBLIC_KEY_FILE: ec })).algorithms).toEqual(["ES256"]);
    expect(authKeysFromEnv(schema.parse({ AUTH_PUBLIC_KEY_FILE: ec, AUTH_JWT_ALGORITHMS: "es256" })).algorithms).toEqual(["ES256"]);
    for (const bad of [join(dir, "missing.pem"), write("junk.pem", "not a key"), ed])
      expect(schema.safeParse({ AUTH_PUBLIC_KEY_FILE: bad }).error?.issues[0]?.path).toEqual(["AUTH_PUBLIC_KEY_FILE"]);
  });

  it("take a JWKS URL with both asymmetric algorithms and the cache settings", () => {
    const c = schema.parse({ AUTH_JWKS_URL: "https://id.example/jwks.json", AUTH_JWKS_COOLDOWN_MS: "5000" });
    expect(authKeysFromEnv(c)).toMatchObject({
      algorithms: ["RS256", "ES256"],
      jwks: { url: "https://id.example/jwks.json", cooldownMs: 5000, cacheMaxAgeMs: 600_000 },
    });
    expect(schema.safeParse({ AUTH_JWKS_URL: "ftp://x" }).error?.issues[0]?.path).toEqual(["AUTH_JWKS_URL"]);
    expect(schema.safeParse({ AUTH_JWT_ALGORITHMS: "HS256" }).error?.issues[0]).toMatchObject({ path: ["AUTH_JWT_ALGORITHMS"], message: /AUTH_JWT_SECRET/ });
  });

  it("report missing keys and contradictory combinations", () => {
    expect(hasAuthKeys(schema.parse({}))).toBe(false);
    const rsa = write("rsa2.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }) as string);
    expect(authEnvProblem(schema.parse({ AUTH_JWKS_URL: "http://x/j", AUTH_PUBLIC_KEY_FILE: rsa }))?.path).toBe("AUTH_PUBLIC_KEY_FILE");
    expect(authEnvProblem(schema.parse({ AUTH_JWT_SECRET: "s", AUTH_JWT_ALGORITHMS: "RS256" }))?.path).toBe("AUTH_JWT_ALGORITHMS");
    expect(authEnvProblem(schema.parse({ AUTH_JWT_SECRET: "s", AUTH_JWKS_URL: "http://x/j" }))).toBeUndefined();
  });
});
