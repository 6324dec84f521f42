import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/check-deploy.mjs";

// A runtime dependency goes into the production image (npm ci --omit=dev): each one must be
// imported by the workspace's own shipped code (src/ and scripts/, tests and test helpers aside).

const WORKSPACES: string[] = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).workspaces;
/** Files that only tests use (their imports are devDependencies). */
const TEST_ONLY = /\.test\.ts$|[.-]fixture\.ts$|\.test-helper\.ts$/;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "dist" ? [] : sourceFiles(path);
    return /\.(ts|mts|mjs|js)$/.test(e.name) && !TEST_ONLY.test(e.name) ? [path] : [];
  });
}

/** The package names a source text imports (`from "x"`, `import("x")`, `require("x")`, subpaths folded). */
function importedPackages(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/(?:\bfrom|\bimport|\brequire)\s*\(?\s*["']([^"'./][^"']*)["']/g)) {
    const spec = m[1] as string;
    names.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string));
  }
  return names;
}

describe.each(WORKSPACES)("%s", (ws) => {
  it("declares as dependencies only packages its shipped code imports", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, ws, "package.json"), "utf8"));
    const imported = new Set(
      [...sourceFiles(join(ROOT, ws, "src")), ...sourceFiles(join(ROOT, ws, "scripts"))].flatMap((f) => [
        ...importedPackages(readFileSync(f, "utf8")),
      ]),
    );
    const unused = Object.keys(manifest.dependencies ?? {}).filter((d) => !imported.has(d));
    expect(unused, `${ws}/package.json: dependencies no shipped file imports (drop them, or make them devDependencies)`).toEqual([]);
  });
});
