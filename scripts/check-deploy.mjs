#!/usr/bin/env node
// Offline checks of the deployment files (run by .ci/run). Every section runs and prints all the
// problems it finds; the exit code is non-zero when any section failed.
//   1. docker-compose.yml: `docker-compose config -q` (or `docker compose`), alone and with the
//      Sentinel override and profile, skipped when neither exists;
//   2. k8s/compose/haproxy.cfg: `haproxy -c`, skipped when haproxy is not installed;
//   3. every overlay in k8s/overlays: `kubectl kustomize`, then each rendered object against the
//      Kubernetes OpenAPI schema (kubernetes-models) plus structural rules (see structuralProblems);
//   4. only when 1-3 passed and a container engine answers (`docker info`): build the image, run
//      docker-compose.yml, check health through the published ports and one order round trip
//      (scripts/compose-smoke.mjs). Skipped, with a message, otherwise.
// Usage: node scripts/check-deploy.mjs [--no-smoke]
// The helpers are exported for test/deploy/*.test.ts.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from "yaml";

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The kustomize overlays that are checked (every directory under k8s/overlays). */
export const OVERLAYS_DIR = join(ROOT, "k8s/overlays");
/** The override pointing every service at the `sentinel` profile's sentinels (docker-compose.yml). */
export const SENTINEL_OVERRIDE = join(ROOT, "k8s/compose/docker-compose.sentinel.yml");
/** `docker compose` arguments of the Sentinel setup: both files and the profile. */
export const SENTINEL_COMPOSE_ARGS = ["-f", join(ROOT, "docker-compose.yml"), "-f", SENTINEL_OVERRIDE, "--profile", "sentinel"];
/** The application services and their Deployment / compose service names. */
export const SERVICES = ["order-api", "processor", "edge"];

function has(cmd, args = ["--version"]) {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 30_000 });
  return r.status === 0;
}

/** The overlay directories (absolute paths), sorted. */
export function listOverlays() {
  return readdirSync(OVERLAYS_DIR)
    .map((d) => join(OVERLAYS_DIR, d))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, "kustomization.yaml")))
    .sort();
}

/** Renders a kustomization with `kubectl kustomize` and returns the objects. */
export function renderKustomization(dir) {
  const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const objects = [];
  for (const doc of parseAllDocuments(out)) {
    if (doc.errors.length > 0) throw new Error(`${dir}: rendered YAML does not parse: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) objects.push(obj);
  }
  return objects;
}

/**
 * An overlay with optional components added, as an operator adds them (a kustomization of its own
 * in a temporary folder: kustomize takes relative paths only), rendered like {@link renderKustomization}.
 */
export function renderWithComponents(overlay, components) {
  const dir = mkdtempSync(join(tmpdir(), "orderstream-components-"));
  writeFileSync(
    join(dir, "kustomization.yaml"),
    stringifyYaml({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace: "orderstream",
      resources: [relative(dir, overlay)],
      components: components.map((c) => relative(dir, c)),
    }),
  );
  return renderKustomization(dir);
}

/** docker-compose.yml as plain data (YAML anchors and `<<` merge keys resolved). */
export function readCompose(file = join(ROOT, "docker-compose.yml")) {
  return parseYaml(readFileSync(file, "utf8"), { merge: true });
}

/**
 * The environment a compose service gets, with `${VAR:-default}` resolved to its default (the
 * value without a .env file). `${VAR}` without a default resolves to "".
 */
export function composeServiceEnv(compose, service) {
  const raw = compose?.services?.[service]?.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((line) => {
        const i = String(line).indexOf("=");
        return i < 0 ? [String(line), ""] : [String(line).slice(0, i), String(line).slice(i + 1)];
      })
    : Object.entries(raw).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)]);
  const resolveDefaults = (v) => v.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name, def) => def ?? "");
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveDefaults(v)]));
}

/**
 * The environment of the first container of Deployment `name` in rendered objects: `env` values
 * plus every key of the ConfigMaps and Secrets in `envFrom` (Secrets decoded). A `valueFrom`
 * entry resolves to the referenced key when it is in the rendered output, else to "<valueFrom>".
 * @returns {Record<string, string>}
 */
export function deploymentEnv(objects, name) {
  const dep = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === name);
  if (!dep) throw new Error(`no Deployment ${name} in the rendered objects`);
  const container = dep.spec.template.spec.containers[0];
  const source = (kind, ref) => {
    const obj = objects.find((o) => o.kind === kind && o.metadata?.name === ref);
    if (!obj) throw new Error(`Deployment ${name} references ${kind} ${ref}, which is not rendered`);
    if (kind === "ConfigMap") return { ...(obj.data ?? {}) };
    const out = { ...(obj.stringData ?? {}) };
    for (const [k, v] of Object.entries(obj.data ?? {})) out[k] = Buffer.from(String(v), "base64").toString("utf8");
    return out;
  };
  /** @type {Record<string, string>} */
  const env = {};
  for (const from of container.envFrom ?? []) {
    const data = from.configMapRef ? source("ConfigMap", from.configMapRef.name) : source("Secret", from.secretRef.name);
    for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ""}${k}`] = String(v);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.configMapKeyRef) env[e.name] = source("ConfigMap", e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key] ?? "";
    else if (e.valueFrom?.secretKeyRef) env[e.name] = source("Secret", e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key] ?? "";
    else env[e.name] = "<valueFrom>";
  }
  return env;
}

/** `kubernetes-models` module path for an apiVersion/kind, e.g. apps/v1 Deployment. */
function modelModule(apiVersion, kind) {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Validates one object against the Kubernetes OpenAPI schema; returns problems (empty = valid). */
export async function schemaProblems(obj) {
  const where = `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;
  if (typeof obj?.apiVersion !== "string" || typeof obj?.kind !== "string") return [`${where}: apiVersion and kind are required`];
  let mod;
  try {
    mod = await import(modelModule(obj.apiVersion, obj.kind));
  } catch {
    return [`${where}: no schema for ${obj.apiVersion} ${obj.kind} (unknown or unsupported kind)`];
  }
  const Model = mod[obj.kind];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${where}: ${err instanceof Error ? err.message : String(err)}`];
  }
}

function podSpecOf(obj) {
  if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(obj.kind)) return obj.spec?.template?.spec;
  if (obj.kind === "Pod") return obj.spec;
  return undefined;
}

/**
 * Rules beyond the schema that every rendered workload must follow: names, images and resource
 * requests, liveness and readiness probes that differ (not for a Job: its pods run to completion
 * and no Service routes to them), non-root, read-only root filesystem with a writable /tmp, no
 * privilege escalation.
 */
export function structuralProblems(obj) {
  const problems = [];
  const where = `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;
  if (!obj?.metadata?.name) problems.push(`${where}: metadata.name is required`);
  const pod = podSpecOf(obj);
  if (!pod) return problems;
  const podSc = pod.securityContext ?? {};
  if (!Array.isArray(pod.containers) || pod.containers.length === 0) problems.push(`${where}: no containers`);
  for (const c of pod.containers ?? []) {
    const cw = `${where} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (!c.image) problems.push(`${cw}: image is required`);
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) problems.push(`${cw}: resources.requests.cpu and .memory are required`);
    if (!c.resources?.limits?.memory) problems.push(`${cw}: resources.limits.memory is required`);
    const serves = obj.kind !== "Job";
    if (serves && !c.livenessProbe) problems.push(`${cw}: livenessProbe is required`);
    if (serves && !c.readinessProbe) problems.push(`${cw}: readinessProbe is required`);
    if (c.livenessProbe && c.readinessProbe && JSON.stringify(c.livenessProbe) === JSON.stringify(c.readinessProbe))
      problems.push(`${cw}: liveness and readiness probes are identical`);
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${cw}: runAsNonRoot must be true`);
    const uid = sc.runAsUser ?? podSc.runAsUser;
    if (uid === 0) problems.push(`${cw}: runAsUser must not be 0`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${cw}: readOnlyRootFilesystem must be true`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${cw}: allowPrivilegeEscalation must be false`);
    const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
    const tmpVol = tmp && (pod.volumes ?? []).find((v) => v.name === tmp.name);
    if (!tmpVol?.emptyDir) problems.push(`${cw}: /tmp must be an emptyDir mount (the root filesystem is read-only)`);
  }
  return problems;
}

function section(title) {
  console.log(`\n== ${title}`);
}

/** The compose command line (`docker-compose` or `docker compose`), or undefined when neither is installed. */
export function composeCommand() {
  if (has("docker-compose", ["version"])) return ["docker-compose"];
  if (has("docker", ["compose", "version"])) return ["docker", "compose"];
  return undefined;
}

function checkCompose() {
  section("docker-compose.yml");
  const cmd = composeCommand();
  if (!cmd) {
    console.log("SKIPPED: neither docker-compose nor `docker compose` is installed (apt-get install -y docker-compose)");
    return true;
  }
  let ok = true;
  for (const files of [["-f", join(ROOT, "docker-compose.yml")], SENTINEL_COMPOSE_ARGS]) {
    const args = [...cmd.slice(1), ...files, "config", "-q"];
    const r = spawnSync(cmd[0], args, { cwd: ROOT, encoding: "utf8" });
    const shown = `${cmd[0]} ${args.map((a) => (a.startsWith(`${ROOT}/`) ? relative(ROOT, a) : a)).join(" ")}`;
    if (r.status !== 0) {
      console.error(`FAIL: ${shown}\n${r.stderr}${r.stdout}`);
      ok = false;
    } else console.log(`ok: ${shown}`);
  }
  return ok;
}

function checkHaproxy() {
  section("k8s/compose/haproxy.cfg");
  if (!has("haproxy", ["-v"])) {
    console.log("SKIPPED: haproxy is not installed (apt-get install -y haproxy)");
    return true;
  }
  const r = spawnSync("haproxy", ["-c", "-f", join(ROOT, "k8s/compose/haproxy.cfg")], { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`FAIL: haproxy -c\n${r.stderr}${r.stdout}`);
    return false;
  }
  console.log("ok: haproxy -c");
  return true;
}

async function checkOverlays() {
  let ok = true;
  for (const dir of listOverlays()) {
    section(relative(ROOT, dir));
    let objects;
    try {
      objects = renderKustomization(dir);
    } catch (err) {
      console.error(`FAIL: kubectl kustomize ${relative(ROOT, dir)}: ${err instanceof Error ? err.message : String(err)}`);
      ok = false;
      continue;
    }
    const problems = [];
    for (const obj of objects) problems.push(...(await schemaProblems(obj)), ...structuralProblems(obj));
    if (problems.length > 0) {
      for (const p of problems) console.error(`FAIL: ${p}`);
      ok = false;
    } else {
      const kinds = objects.map((o) => o.kind).sort();
      console.log(`ok: ${objects.length} objects valid (${[...new Set(kinds)].map((k) => `${kinds.filter((x) => x === k).length} ${k}`).join(", ")})`);
    }
  }
  return ok;
}

async function smokeTest() {
  section("image build and compose smoke test");
  if (process.argv.includes("--no-smoke")) {
    console.log("SKIPPED: --no-smoke");
    return true;
  }
  if (!has("docker", ["info"])) {
    console.log("SKIPPED: no container engine (`docker info` fails); image build and compose smoke test not run");
    return true;
  }
  const { runComposeSmoke } = await import("./compose-smoke.mjs");
  return runComposeSmoke(ROOT);
}

async function main() {
  if (!has("kubectl", ["version", "--client"])) {
    console.error("FAIL: kubectl is required (kubectl kustomize renders the overlays)");
    return 1;
  }
  const results = [checkCompose(), checkHaproxy(), await checkOverlays()];
  if (results.every(Boolean)) results.push(await smokeTest());
  const failed = results.filter((r) => !r).length;
  console.log(failed === 0 ? "\ncheck-deploy: all checks passed" : `\ncheck-deploy: ${failed} section(s) failed`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
