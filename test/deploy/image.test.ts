import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, SERVICES, listOverlays, readCompose, renderKustomization } from "../../scripts/check-deploy.mjs";

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

describe("Dockerfile", () => {
  it("builds every stage on node:24-trixie-slim (Node 24, glibc 2.41 for the uWebSockets.js binary), never Alpine", () => {
    const bases = stages.map((s) => (s[0] as string).split(/\s+/)[1] as string);
    const resolved = bases.map((b) => b.replace(/^\$\{(\w+)\}$/, (_m, n: string) => arg(n) ?? b));
    for (const b of resolved) expect(b === "node:24-trixie-slim" || stages.some((s) => (s[0] as string).endsWith(` AS ${b}`))).toBe(true);
    expect(instructions.join("\n")).not.toMatch(/alpine/i);
  });

  it("copies the package.json of every workspace before `npm ci` (else npm ci fails)", () => {
    const workspaces: string[] = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).workspaces;
    for (const ws of workspaces) expect(dockerfile, ws).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it("installs with npm ci, builds with npm run build, and ships only production dependencies", () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(finalStage.join("\n")).toMatch(/COPY --from=deps \/app \/app/);
    expect(finalStage.join("\n")).not.toMatch(/COPY --from=build \/app\/node_modules/);
  });

  it("runs as a numeric non-root user, with a HEALTHCHECK and the edge as default command (the base stage of both images)", () => {
    const stage = (name: string): string[] => stages.find((st) => new RegExp(`\\sAS ${name}$`, "i").test(st[0] as string)) ?? [];
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
