import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm, type AuthKeys } from "./token-verifier.js";

/** A public key read from AUTH_PUBLIC_KEY_FILE, with the algorithm its type implies. */
export interface PublicKeyFile {
  path: string;
  pem: string;
  inferred: AsymmetricAlgorithm;
}

function readPublicKeyFile(path: string, ctx: z.RefinementCtx): PublicKeyFile | typeof z.NEVER {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `cannot read ${path}: ${(err as Error).message}` });
    return z.NEVER;
  }
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === "rsa") return { path, pem, inferred: "RS256" };
    if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return { path, pem, inferred: "ES256" };
    ctx.addIssue({ code: "custom", message: `${path}: an RSA or P-256 EC public key is expected, got ${key.asymmetricKeyType ?? "?"}` });
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `${path} is not a PEM public key: ${(err as Error).message}` });
  }
  return z.NEVER;
}

const ms = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/**
 * The AUTH_* variables of every service that verifies tokens (edge, order-api): spread them into the
 * service's zod schema by name, then build the keys with {@link authKeysFromEnv}.
 */
export const authEnv = {
  /** Comma-separated HS256 secrets; any verifies (rotation). */
  AUTH_JWT_SECRET: z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim()))
    .refine((list) => list.every((s) => s !== ""), "an empty secret between commas")
    .meta({ description: "HS256 secrets, comma-separated; any verifies (rotation)", secret: true }),
  /** A JWKS endpoint (http or https) for RS256/ES256 tokens. */
  AUTH_JWKS_URL: z
    .string()
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v), "must be an http:// or https:// URL")
    .describe("A JWKS endpoint (http or https) for RS256/ES256 tokens"),
  /** A PEM public key (RSA or P-256) for RS256/ES256 tokens. */
  AUTH_PUBLIC_KEY_FILE: z
    .string()
    .transform(readPublicKeyFile)
    .describe("A PEM public key file (RSA or P-256) for RS256/ES256 tokens; not together with AUTH_JWKS_URL"),
  /** Asymmetric algorithms accepted (default: inferred from the key file; RS256,ES256 for a JWKS). */
  AUTH_JWT_ALGORITHMS: z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim().toUpperCase()))
    .refine(
      (list): list is AsymmetricAlgorithm[] => list.every((a) => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)),
      `must be a comma-separated list of ${ASYMMETRIC_ALGORITHMS.join(", ")} (HS256 is on when AUTH_JWT_SECRET is set)`,
    )
    .describe("Asymmetric algorithms accepted, comma-separated: RS256, ES256 (default: inferred from the key file; both for a JWKS)"),
  /** After a JWKS fetch, a token with an unknown `kid` refetches only once this long has passed. */
  AUTH_JWKS_COOLDOWN_MS: ms(30_000, 0, 3_600_000).describe("A token with an unknown kid refetches the JWKS at most this often"),
  /** A fetched JWKS is refetched after this long even when every `kid` is known. */
  AUTH_JWKS_CACHE_MS: ms(600_000, 1000, 24 * 3_600_000).describe(
    "A fetched JWKS is refetched after this long even when every kid is known",
  ),
};

/** The parsed AUTH_* variables. */
export interface AuthEnv {
  AUTH_JWT_SECRET?: string[] | undefined;
  AUTH_JWKS_URL?: string | undefined;
  AUTH_PUBLIC_KEY_FILE?: PublicKeyFile | undefined;
  AUTH_JWT_ALGORITHMS?: AsymmetricAlgorithm[] | undefined;
  AUTH_JWKS_COOLDOWN_MS: number;
  AUTH_JWKS_CACHE_MS: number;
}

/** {@link authEnv} with every variable optional except the two with defaults (for `z.object`). */
export const authEnvFields = {
  AUTH_JWT_SECRET: authEnv.AUTH_JWT_SECRET.optional(),
  AUTH_JWKS_URL: authEnv.AUTH_JWKS_URL.optional(),
  AUTH_PUBLIC_KEY_FILE: authEnv.AUTH_PUBLIC_KEY_FILE.optional(),
  AUTH_JWT_ALGORITHMS: authEnv.AUTH_JWT_ALGORITHMS.optional(),
  AUTH_JWKS_COOLDOWN_MS: authEnv.AUTH_JWKS_COOLDOWN_MS,
  AUTH_JWKS_CACHE_MS: authEnv.AUTH_JWKS_CACHE_MS,
};

/** How long a JWKS fetch may take before the token is refused (and the next one retries). */
export const JWKS_TIMEOUT_MS = 5000;

/** Whether any key source is configured. */
export function hasAuthKeys(c: AuthEnv): boolean {
  return (c.AUTH_JWT_SECRET?.length ?? 0) > 0 || c.AUTH_JWKS_URL !== undefined || c.AUTH_PUBLIC_KEY_FILE !== undefined;
}

/** A cross-field problem of the AUTH_* variables, as a zod issue message with its variable, or undefined. */
export function authEnvProblem(c: AuthEnv): { path: string; message: string } | undefined {
  if (c.AUTH_JWKS_URL !== undefined && c.AUTH_PUBLIC_KEY_FILE !== undefined)
    return { path: "AUTH_PUBLIC_KEY_FILE", message: "set AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE, not both" };
  if (c.AUTH_JWT_ALGORITHMS !== undefined && c.AUTH_JWKS_URL === undefined && c.AUTH_PUBLIC_KEY_FILE === undefined)
    return { path: "AUTH_JWT_ALGORITHMS", message: "applies to AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE, and neither is set" };
  return undefined;
}

/** The keys the parsed AUTH_* variables describe. */
export function authKeysFromEnv(c: AuthEnv): AuthKeys {
  const file = c.AUTH_PUBLIC_KEY_FILE;
  const algorithms = c.AUTH_JWT_ALGORITHMS ?? (file ? [file.inferred] : c.AUTH_JWKS_URL ? [...ASYMMETRIC_ALGORITHMS] : []);
  return {
    hs256Secrets: c.AUTH_JWT_SECRET ?? [],
    jwks:
      c.AUTH_JWKS_URL === undefined
        ? undefined
        : { url: c.AUTH_JWKS_URL, cooldownMs: c.AUTH_JWKS_COOLDOWN_MS, cacheMaxAgeMs: c.AUTH_JWKS_CACHE_MS, timeoutMs: JWKS_TIMEOUT_MS },
    publicKeyPem: file?.pem,
    algorithms,
  };
}
