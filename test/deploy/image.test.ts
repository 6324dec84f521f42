import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, SERVICES, listOverlays, readCompose, renderKustomization } from "../../scripts/check-deploy.mjs";
import { runtimeWorkspaces, serviceWorkspaces } from "../../scripts/runtime-workspaces.mjs";

const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
/** Dockerfile instructions with line continuations joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const stages = instructions.reduce<string[][]>((acc, l) => {
  if (/^FROM\s/i.test(l)) acc.push([l]);
  else acc.at(-1)?.push(l);
  return acc;
}, []);
const finalStage = stages.at(-1) ?? [];
const arg = (name: string): string | undefined =>
  instructions.map((l) => new RegExp(`^ARG\\s+${name}=(\\S+)`).exec(l)?.[1]).find(Boolean);
const stage = (name: string): string[] => stages.find((st) => new RegExp(`\\sAS ${name}$`, "i").test(st[0] as string)) ?? [];
const allWorkspaces: string[] = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).workspaces;
/** The workspaces whose package.json a stage copies (`COPY <ws>/package.json <ws>/`), in order. */
const copiedManifests = (lines: string[]): string[] =>
  lines.map((l) => /^COPY (\S+)\/package\.json \1\/$/.exec(l)?.[1]).filter((ws): ws is string => ws !== undefined);

describe("Dockerfile", () => {
  it("builds every stage on node:24-trixie-slim (Node 24, glibc 2.41 for the uWebSockets.js binary), never Alpine", () => {
    const bases = stages.map((s) => (s[0] as string).split(/\s+/)[1] as string);
    const resolved = bases.map((b) => b.replace(/^\$\{(\w+)\}$/, (_m, n: string) => arg(n) ?? b));
    for (const b of resolved) expect(b === "node:24-trixie-slim" || stages.some((s) => (s[0] as string).endsWith(` AS ${b}`))).toBe(true);
    expect(instructions.join("\n")).not.toMatch(/alpine/i);
  });

  it("the build stage copies the package.json of every workspace before its full `npm ci` (else npm ci fails)", () => {
    const build = stage("build");
    const ci = build.findIndex((l) => /^RUN npm ci\b/.test(l));
    expect(ci).toBeGreaterThan(0);
    expect(copiedManifests(build.slice(0, ci)).sort()).toEqual([...allWorkspaces].sort());
    expect(build.join("\n")).toMatch(/RUN npm run build/);
  });

  it("the services and the packages they import are the runtime workspaces, never testkit, client or loadgen", () => {
    expect(runtimeWorkspaces()).toEqual([
      "packages/proto",
      "packages/wire",
      "packages/workflow",
      "packages/domain",
      "packages/auth",
      "packages/bus",
      "services/order-api",
      "services/processor",
      "services/edge",
    ]);
  });

  it("the deps stage installs the services' production dependencies from the runtime workspaces' manifests alone", () => {
    const deps = stage("deps");
    const ci = deps.find((l) => /^RUN npm ci\b/.test(l)) ?? "";
    // A dev workspace's manifest beside them would make npm keep its runtime dependencies (ws).
    expect(copiedManifests(deps)).toEqual(runtimeWorkspaces());
    expect(ci).toMatch(/^RUN npm ci --omit=dev --omit=optional /);
    const named = [...ci.matchAll(/--workspace (\S+)/g)].map((m) => m[1]);
    expect(named.sort()).toEqual(serviceWorkspaces().sort());
  });

  it("the runtime stage takes node_modules from deps and, from build, exactly the runtime workspaces", () => {
    const runtime = finalStage.join("\n");
    expect(runtime).toMatch(/COPY --from=deps \/app \/app/);
    expect(runtime).not.toMatch(/COPY --from=build \/app\/node_modules/);
    const fromBuild = finalStage
      .map((l) => /^COPY --from=build \/app\/(\S+) \/app\/\1$/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined && p !== "proto");
    expect(fromBuild).toEqual(runtimeWorkspaces());
  });

  it("scripts/product-image.sh installs and copies the same runtime workspaces", () => {
    const script = readFileSync(join(ROOT, "scripts/product-image.sh"), "utf8");
    expect(script).toContain('node "$repo/scripts/runtime-workspaces.mjs"');
    expect(script).toMatch(/npm ci --omit=dev --omit=optional "\$\{ws_args\[@\]\}"/);
  });

  it("runs as a numeric non-root user, with a HEALTHCHECK and the edge as default command (the base stage of both images)", () => {
    const base = stage("base");
    const user = base.filter((l) => /^USER\s/.test(l)).at(-1);
    expect(user).toMatch(/^USER\s+[1-9]\d*(:\d+)?$/);
    expect(base.some((l) => /^HEALTHCHECK .*CMD \["node", "scripts\/healthcheck\.mjs"\]/.test(l))).toBe(true);
    expect(base.at(-1)).toBe('CMD ["node", "services/edge/dist/main.js"]');
    // The default image and the prebuilt one both take these from base and change none of them.
    expect(finalStage[0]).toMatch(/^FROM base AS runtime$/);
    for (const name of ["runtime", "prebuilt"]) {
      expect(stage(name)[0], name).toMatch(/^FROM base AS /);
      expect(stage(name).filter((l) => /^(USER|CMD|ENTRYPOINT|HEALTHCHECK|WORKDIR)\s/.test(l)), name).toEqual([]);
    }
    expect(finalStage.join("\n")).toContain("COPY scripts/healthcheck.mjs /app/scripts/healthcheck.mjs");
    expect(finalStage.join("\n")).toContain("COPY --from=build /app/proto /app/proto");
  });

  it("the prebuilt target copies a host-built context, dependencies in a layer before the app, before any npm ci stage", () => {
    const names = stages.map((st) => (/\sAS (\S+)$/i.exec(st[0] as string)?.[1] ?? "").toLowerCase());
    // The classic builder builds every stage before its target: prebuilt must come before deps.
    expect(names.indexOf("prebuilt")).toBeLessThan(names.indexOf("deps"));
    const prebuilt = stages[names.indexOf("prebuilt")] ?? [];
    expect(prebuilt.filter((l) => /^(COPY|RUN)\s/.test(l))).toEqual(["COPY package.json prebuilt-deps* ./", "COPY package.json prebuilt-app* ./"]);
  });

  it("every service command used by compose and k8s is a main.js the build produces", () => {
    const commands = new Set<string>();
    const compose = readCompose();
    for (const svc of SERVICES) commands.add(compose.services[svc].command.join(" "));
    for (const dir of listOverlays())
      for (const o of renderKustomization(dir))
        if (o.kind === "Deployment" && SERVICES.includes(o.metadata.name)) commands.add(o.spec.template.spec.containers[0].command.join(" "));
    expect([...commands].sort()).toEqual(SERVICES.map((s) => `node services/${s}/dist/main.js`).sort());
    for (const svc of SERVICES) {
      // tsc compiles services/<svc>/src/main.ts to the dist/main.js the commands run.
      expect(existsSync(join(ROOT, "services", svc, "src", "main.ts")), `services/${svc}/src/main.ts`).toBe(true);
    }
  });
});

describe(".dockerignore", () => {
  const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

  it("keeps host node_modules, build output and secrets out of the build context", () => {
    expect(ignored).toEqual(expect.arrayContaining(["**/node_modules", "**/dist", "**/*.tsbuildinfo", ".git", ".env"]));
  });

  it("does not exclude anything the Dockerfile copies", () => {
    const copied = instructions
      .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const src of copied) {
      const top = src.replace(/^\.\//, "").split("/")[0] as string;
      expect(ignored, src).not.toContain(top);
      expect(ignored, src).not.toContain(src);
    }
  });
});
