import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ROOT,
  SERVICES,
  composeServiceEnv,
  deploymentEnv,
  listOverlays,
  readCompose,
  renderKustomization,
} from "../../scripts/check-deploy.mjs";

type Env = Record<string, string>;

/** The names each service must read (the README's Configuration table); a sanity floor for the parser. */
const COMMON = ["REDIS_URL", "LOG_LEVEL", "SHUTDOWN_TIMEOUT_MS", "HISTORY_SIZE", "HISTORY_TTL_MS", "HISTORY_META_TTL_MS"];
const CONTRACT: Record<string, string[]> = {
  "order-api": [...COMMON, "GRPC_HOST", "GRPC_PORT", "METRICS_PORT", "MAX_MESSAGE_BYTES", "MAX_BULK_ORDERS", "BULK_BATCH_SIZE", "IDEMPOTENCY_TTL_MS", "SUBSCRIBE_MAX_PENDING", "ORDER_API_AUTH", "AUTH_JWT_SECRET", "AUTH_JWKS_URL", "AUTH_PUBLIC_KEY_FILE", "GRPC_TLS_CERT", "GRPC_TLS_KEY"],
  processor: [...COMMON, "PROCESSOR_CONCURRENCY", "SHIP_DELAY_MS", "DELIVER_DELAY_MS", "JOB_ATTEMPTS", "DUE_SWEEP_INTERVAL_MS", "DUE_GRACE_MS", "HEALTH_PORT"],
  edge: [...COMMON, "EDGE_HOST", "EDGE_PORT", "NODE_ID", "ORDER_API_URL", "ORDER_API_TLS", "ORDER_API_TLS_CA", "AUTH_JWT_SECRET", "AUTH_JWKS_URL", "AUTH_PUBLIC_KEY_FILE", "ANONYMOUS_ALL_ORDERS", "MAX_CONNECTIONS", "MAX_CHANNELS_PER_CONN", "MAX_PAYLOAD_BYTES", "MAX_BACKPRESSURE_BYTES", "IDLE_TIMEOUT_S", "RATE_LIMIT_PER_S", "RATE_LIMIT_BURST", "DRAIN_WINDOW_MS"],
};
/** Variables without a default: every deployment must set them. */
const REQUIRED: Record<string, string[]> = { "order-api": ["REDIS_URL"], processor: ["REDIS_URL"], edge: ["REDIS_URL", "AUTH_JWT_SECRET"] };
/**
 * Values that differ between the local deployments (compose, k8s local) and production on
 * purpose (also listed in docs/deployment.md). Any other difference fails.
 */
const PRODUCTION_DIFFERS = new Set(["REDIS_URL", "AUTH_JWT_SECRET", "ANONYMOUS_ALL_ORDERS", "ORDER_API_AUTH"]);

/** Strips comments, keeping `//` inside URLs such as redis://host. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/**
 * The UPPER_SNAKE environment variable names a config module reads: `process.env.X`,
 * `env.X` / `env["X"]`, and object keys of its zod schema. Follows relative imports inside src.
 */
function envVarsOf(file: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(file) || !existsSync(file)) return names;
  seen.add(file);
  const src = stripComments(readFileSync(file, "utf8"));
  const name = "([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)";
  const patterns = [
    new RegExp(`\\benv\\.${name}\\b`, "g"),
    new RegExp(`\\benv\\[\\s*["'\`]${name}["'\`]\\s*\\]`, "g"),
    new RegExp(`["']${name}["']\\s*:(?!:)`, "g"),
  ];
  for (const re of patterns) for (const m of src.matchAll(re)) names.add(m[1] as string);
  // Unquoted object keys, with string literals removed so messages like "X: bad" do not count.
  const code = src.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
  for (const m of code.matchAll(new RegExp(`(?<![\\w.$?]\\s*)(?<!\\b(?:const|let|var|case)\\s+)\\b${name}\\s*:(?!:)`, "g")))
    names.add(m[1] as string);
  for (const m of src.matchAll(/from\s+["'](\.{1,2}\/[^"']+)\.js["']/g)) {
    const dep = resolve(dirname(file), `${m[1]}.ts`);
    if (dep.startsWith(dirname(file)) || dep.includes("/src/")) for (const n of envVarsOf(dep, seen)) names.add(n);
  }
  return names;
}

const configFile = (svc: string): string => join(ROOT, "services", svc, "src", "config.ts");

interface Target {
  name: string;
  env: Record<string, Env>;
}

let targets: Target[] = [];
const read: Record<string, Set<string>> = {};

beforeAll(() => {
  for (const svc of SERVICES) read[svc] = envVarsOf(configFile(svc));
  const compose = readCompose();
  targets = [{ name: "docker-compose", env: Object.fromEntries(SERVICES.map((s) => [s, composeServiceEnv(compose, s)])) }];
  for (const dir of listOverlays()) {
    const objects = renderKustomization(dir);
    targets.push({
      name: `k8s/overlays/${dir.split("/").pop()}`,
      env: Object.fromEntries(SERVICES.map((s) => [s, deploymentEnv(objects, s)])),
    });
  }
});

describe.each(SERVICES)("environment of %s", (svc) => {
  it("is read from the service's real config.ts, which reads every contract variable", () => {
    expect(existsSync(configFile(svc)), `${configFile(svc)} is missing`).toBe(true);
    const missing = (CONTRACT[svc] ?? []).filter((v) => !read[svc]?.has(v));
    expect(missing, `contract variables not found in services/${svc}/src/config.ts`).toEqual([]);
  });

  it("sets no variable the service does not read (compose and every overlay)", () => {
    for (const t of targets) {
      const stray = Object.keys(t.env[svc] ?? {}).filter((k) => !read[svc]?.has(k));
      expect(stray, `${t.name} sets variables ${svc} never reads`).toEqual([]);
    }
  });

  it("sets the same variables in compose and in every k8s overlay", () => {
    const [first, ...rest] = targets as [Target, ...Target[]];
    const want = Object.keys(first.env[svc] ?? {}).sort();
    for (const t of rest) expect(Object.keys(t.env[svc] ?? {}).sort(), `${t.name} vs ${first.name}`).toEqual(want);
  });

  it("sets every variable that has no default", () => {
    for (const t of targets)
      for (const v of REQUIRED[svc] ?? []) expect(Object.keys(t.env[svc] ?? {}), `${t.name} must set ${v}`).toContain(v);
  });

  it("has equal values everywhere except the documented production differences", () => {
    const compose = targets.find((t) => t.name === "docker-compose")?.env[svc] ?? {};
    for (const t of targets) {
      const env = t.env[svc] ?? {};
      for (const [k, v] of Object.entries(compose)) {
        if (t.name.endsWith("/production") && PRODUCTION_DIFFERS.has(k)) continue;
        expect(env[k], `${t.name}: ${svc} ${k}`).toBe(v);
      }
    }
  });

  it("passes the service's own config validation in every deployment", async () => {
    const mod = (await import(pathToFileURL(configFile(svc)).href)) as { loadConfig?: (env: Env) => unknown };
    expect(typeof mod.loadConfig, `services/${svc}/src/config.ts must export loadConfig(env)`).toBe("function");
    const load = mod.loadConfig as (env: Env) => unknown;
    for (const t of targets) {
      const env = { ...(t.env[svc] ?? {}) };
      if (t.name.endsWith("/production") && env.AUTH_JWT_SECRET === "") {
        // The production placeholder is empty on purpose: edge and order-api (jwt) must refuse to start with it.
        expect(() => load(env), `empty AUTH_JWT_SECRET must stop ${svc}`).toThrow(/AUTH_JWT_SECRET/);
        env.AUTH_JWT_SECRET = "a-secret-filled-in-at-deploy-time";
      }
      expect(() => load(env), `${t.name}: ${svc} config`).not.toThrow();
    }
  });

  it("is documented in docs/deployment.md (every variable the service reads)", () => {
    const doc = readFileSync(join(ROOT, "docs/deployment.md"), "utf8");
    const undocumented = [...(read[svc] ?? [])].filter((v) => !doc.includes(`\`${v}\``));
    expect(undocumented, "add these to the variable table in docs/deployment.md").toEqual([]);
  });
});

describe("production", () => {
  it("keeps the anonymous all-orders access off, and on in the local deployments", () => {
    for (const t of targets) {
      const want = t.name.endsWith("/production") ? "false" : "true";
      expect(t.env.edge?.ANONYMOUS_ALL_ORDERS, t.name).toBe(want);
    }
  });

  it("authenticates order-api calls (ORDER_API_AUTH=jwt), and leaves them open in the local deployments", () => {
    for (const t of targets) expect(t.env["order-api"]?.ORDER_API_AUTH, t.name).toBe(t.name.endsWith("/production") ? "jwt" : "off");
  });

  it("uses neither the in-cluster development Redis nor the development JWT secret", () => {
    const prod = targets.find((t) => t.name.endsWith("/production"));
    const local = targets.find((t) => t.name === "docker-compose");
    expect(prod).toBeDefined();
    for (const svc of SERVICES) {
      expect(prod?.env[svc]?.REDIS_URL).not.toBe(local?.env[svc]?.REDIS_URL);
      expect(prod?.env[svc]?.REDIS_URL).not.toMatch(/\/\/redis:/);
    }
    expect(prod?.env.edge?.AUTH_JWT_SECRET).not.toBe(local?.env.edge?.AUTH_JWT_SECRET);
  });
});

describe(".env.example", () => {
  it("lists exactly the variables docker-compose.yml interpolates, with the same defaults", () => {
    const composeText = readFileSync(join(ROOT, "docker-compose.yml"), "utf8").replace(/^\s*#.*$/gm, "");
    const defaults: Env = {};
    for (const m of composeText.matchAll(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g)) defaults[m[1] as string] = m[2] ?? "";
    const example: Env = {};
    for (const line of readFileSync(join(ROOT, ".env.example"), "utf8").split("\n")) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) example[m[1] as string] = m[2] as string;
    }
    expect(Object.keys(example).sort()).toEqual(Object.keys(defaults).sort());
    expect(example).toEqual(defaults);
  });
});

describe("the local launcher (scripts/dev-cluster.mjs)", () => {
  it("uses the same development JWT secret and anonymous access as compose and the local overlay", () => {
    const launcher = readFileSync(join(ROOT, "scripts/dev-cluster.mjs"), "utf8");
    const devSecret = /DEV_SECRET\s*=\s*["']([^"']+)["']/.exec(launcher)?.[1];
    expect(devSecret, "DEV_SECRET in scripts/dev-cluster.mjs").toBeDefined();
    expect(launcher).toMatch(/ANONYMOUS_ALL_ORDERS[^\n]*"true"/);
    for (const t of targets.filter((x) => !x.name.endsWith("/production"))) {
      expect(t.env.edge?.AUTH_JWT_SECRET, t.name).toBe(devSecret);
      expect(t.env.edge?.ANONYMOUS_ALL_ORDERS, t.name).toBe("true");
    }
  });
});
