import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { type EnvSchema, describeEnv } from "@orderstream/bus";
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
import { CONFIGURATION_DOC, renderConfigurationDoc } from "../../scripts/gen-config-docs.mjs";

type Env = Record<string, string>;

/** Names the docs may use that no service reads: Node's and uWebSockets.js's own, and Kubernetes' service links. */
const PLATFORM_NAMES = new Set(["NODE_ENV", "NODE_OPTIONS", "UWS_USE_FALLBACK", "REDIS_PORT"]);
/** Node's own variables a deployment may set beside the service's (compose and k8s alike). */
const NODE_RUNTIME = new Set(["NODE_OPTIONS"]);

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

const configFile = (svc: string): string => join(ROOT, "services", svc, "src", "config.ts");

interface Target {
  name: string;
  env: Record<string, Env>;
}

let targets: Target[] = [];
/** The variables each service reads: the keys of its config.ts's `envSchema`, the one source. */
const read: Record<string, Set<string>> = {};
const schemas: Record<string, EnvSchema> = {};

beforeAll(async () => {
  for (const svc of SERVICES) {
    const mod = (await import(pathToFileURL(configFile(svc)).href)) as { envSchema?: EnvSchema };
    expect(mod.envSchema, `services/${svc}/src/config.ts must export envSchema`).toBeDefined();
    schemas[svc] = mod.envSchema as EnvSchema;
    read[svc] = new Set(Object.keys(schemas[svc].shape));
  }
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
  it("is read from the service's envSchema, which has every contract variable, each with a meaning", () => {
    expect(existsSync(configFile(svc)), `${configFile(svc)} is missing`).toBe(true);
    const missing = (CONTRACT[svc] ?? []).filter((v) => !read[svc]?.has(v));
    expect(missing, `contract variables not found in services/${svc}/src/config.ts`).toEqual([]);
    const undescribed = describeEnv(schemas[svc] as EnvSchema).filter((v) => v.description.length < 10);
    expect(undescribed.map((v) => v.name), "add .describe() to these variables").toEqual([]);
  });

  it("sets no variable the service does not read (compose and every overlay)", () => {
    for (const t of targets) {
      const stray = Object.keys(t.env[svc] ?? {}).filter((k) => !read[svc]?.has(k) && !NODE_RUNTIME.has(k));
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


/** Variables the launchers, benchmarks and compose read (`process.env.X`, `${X}`), not the services. */
function toolingNames(): Set<string> {
  const files = ["docker-compose.yml", ".env.example", ...["scripts", "bench"].flatMap((d) => readdirSync(join(ROOT, d)).map((f) => `${d}/${f}`))];
  const names = new Set<string>();
  for (const f of files.filter((x) => /\.(mjs|sh|yml)$|\.env\.example$/.test(x))) {
    const text = readFileSync(join(ROOT, f), "utf8");
    for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)|\$\{?([A-Z][A-Z0-9_]+)|^([A-Z][A-Z0-9_]+)=/gm)) names.add((m[1] ?? m[2] ?? m[3]) as string);
  }
  return names;
}

/** One row of a configuration table (README, docs/deployment.md): `NAME` / `NAME2` | services | default | … */
interface TableRow {
  line: string;
  names: string[];
  services: string[];
}

/** The rows of `file`'s tables whose first cell names variables and whose second names services. */
function configTableRows(file: string): TableRow[] {
  const rows: TableRow[] = [];
  for (const line of readFileSync(join(ROOT, file), "utf8").split("\n")) {
    const m = /^\|\s*((?:`[A-Z][A-Z0-9_]*`\s*\/?\s*)+)\|([^|]*)\|/.exec(line);
    if (!m) continue;
    const words = (m[2] as string).split(",").map((w) => w.trim());
    if (!words.every((w) => w === "all" || (SERVICES as string[]).includes(w))) continue;
    rows.push({
      line,
      names: [...(m[1] as string).matchAll(/`([A-Z0-9_]+)`/g)].map((n) => n[1] as string),
      services: words.includes("all") ? [...SERVICES] : words,
    });
  }
  return rows;
}

describe("one source of configuration truth (the services' envSchema)", () => {
  it(`generates ${CONFIGURATION_DOC} from the schemas, and it is up to date (npm run gen:config)`, async () => {
    const current = existsSync(join(ROOT, CONFIGURATION_DOC)) ? readFileSync(join(ROOT, CONFIGURATION_DOC), "utf8") : "";
    expect(current === (await renderConfigurationDoc()), `${CONFIGURATION_DOC} is stale: npm run build && npm run gen:config`).toBe(true);
  });

  it.each(["README.md", "docs/deployment.md"])("%s: every configuration table row names variables of the services it lists", (file) => {
    const rows = configTableRows(file);
    expect(rows.length, `configuration table of ${file}`).toBeGreaterThan(30);
    const wrong = rows.flatMap((r) => r.names.flatMap((n) => r.services.filter((s) => !read[s]?.has(n)).map((s) => `${n} (${s})`)));
    expect(wrong, `${file} names variables the schemas of these services do not have`).toEqual([]);
  });

  it("README: the configuration table lists every variable a person sets", () => {
    const listed = configTableRows("README.md");
    const missing = SERVICES.flatMap((s) =>
      describeEnv(schemas[s] as EnvSchema)
        .filter((v) => !v.internal && !listed.some((r) => r.names.includes(v.name) && r.services.includes(s)))
        .map((v) => `${v.name} (${s})`),
    );
    expect(missing, "add these to README.md's Configuration table").toEqual([]);
  });

  it.each(["README.md", "docs/deployment.md"])("%s names no variable that neither a service nor the tooling reads", async (file) => {
    const { status } = await import("@grpc/grpc-js");
    const known = new Set([...SERVICES.flatMap((s) => [...(read[s] ?? [])]), ...toolingNames(), ...PLATFORM_NAMES, ...Object.keys(status)]);
    const text = readFileSync(join(ROOT, file), "utf8");
    const named = new Set([...text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`/g)].map((m) => m[1] as string));
    expect([...named].filter((n) => !known.has(n)), `${file} names unknown variables`).toEqual([]);
  });

  it("k8s: every .env file sets only variables the service it configures reads", () => {
    const envFiles = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? envFiles(join(dir, e.name)) : e.name.endsWith(".env") ? [join(dir, e.name)] : [],
      );
    const files = envFiles(join(ROOT, "k8s"));
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) {
      const svc = SERVICES.find((s) => file.endsWith(`/${s}.env`));
      const keys = [...readFileSync(file, "utf8").matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
      const unknown = keys.filter((k) => (svc ? !read[svc]?.has(k) : !SERVICES.some((s) => read[s]?.has(k))));
      expect(unknown, `${relative(ROOT, file)} sets variables no schema knows`).toEqual([]);
    }
  });

  it(".env.example: every line is a service variable or a compose-only one documented in docs/deployment.md", () => {
    const doc = readFileSync(join(ROOT, "docs/deployment.md"), "utf8");
    const composeOnly = /Compose-only variables[^:]*:([^.]*)/.exec(doc)?.[1] ?? "";
    const keys = [...readFileSync(join(ROOT, ".env.example"), "utf8").matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
    const unknown = keys.filter((k) => !SERVICES.some((s) => read[s]?.has(k)) && !composeOnly.includes(`\`${k}\``));
    expect(unknown).toEqual([]);
  });
});
