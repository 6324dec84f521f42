// Packs workspace packages with `npm pack` and installs the tarballs into a scratch project
// outside the workspace, as a user would. Child npm runs get the environment without the
// npm_* variables of an enclosing `npm test`, so the workspace's settings do not leak in.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The current environment minus npm's per-run variables. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** A fresh directory under the OS temp dir with a minimal package.json (an ESM project). */
export async function scratchProject(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, "package.json"), `${JSON.stringify({ name: "scratch", private: true, type: "module" }, null, 2)}\n`);
  return dir;
}

/** `npm pack` of a workspace package (e.g. "packages/client") into `dest`; returns the tarball path. */
export async function pack(workspaceDir: string, dest: string): Promise<string> {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dest], { cwd: join(ROOT, workspaceDir), env: cleanEnv() });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack ${workspaceDir}: no output`);
  return join(dest, info.filename);
}

/** How {@link installTarballs} got the tarballs' dependencies. */
export type InstallMode = "npm install (registry or cache)" | "npm install --offline" | "linked workspace node_modules";

/**
 * Installs `tarballs` into `project` with `npm install`, preferring the npm cache; when that fails
 * (no network and a cold cache), unpacks them into node_modules and links the workspace's
 * installed third-party packages beside them, with the bin links npm would have made.
 */
export async function installTarballs(project: string, tarballs: string[], { offlineOnly = false } = {}): Promise<InstallMode> {
  const flags = ["--no-audit", "--no-fund", offlineOnly ? "--offline" : "--prefer-offline"];
  try {
    await run("npm", ["install", ...flags, ...tarballs], { cwd: project, env: cleanEnv(), timeout: 180_000 });
    return offlineOnly ? "npm install --offline" : "npm install (registry or cache)";
  } catch (err) {
    process.stderr.write(
      `npm install of ${tarballs.length} tarball(s) failed, linking the workspace's node_modules instead: ${String(err).slice(0, 300)}\n`,
    );
  }
  const modules = join(project, "node_modules");
  await mkdir(join(modules, ".bin"), { recursive: true });
  for (const tgz of tarballs) {
    const { stdout } = await run("tar", ["-xzOf", tgz, "package/package.json"]);
    const manifest = JSON.parse(stdout) as { name: string; bin?: Record<string, string> };
    const target = join(modules, manifest.name);
    await mkdir(target, { recursive: true });
    await run("tar", ["-xzf", tgz, "-C", target, "--strip-components=1"]);
    for (const [name, file] of Object.entries(manifest.bin ?? {})) {
      await chmod(join(target, file), 0o755);
      await symlink(join(target, file), join(modules, ".bin", name));
    }
  }
  const workspaceModules = join(ROOT, "node_modules");
  for (const entry of await readdir(workspaceModules)) {
    if (entry.startsWith(".") || entry === "@orderstream") continue;
    const names = entry.startsWith("@") ? (await readdir(join(workspaceModules, entry))).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      if (existsSync(join(modules, name))) continue;
      await mkdir(dirname(join(modules, name)), { recursive: true });
      await symlink(join(workspaceModules, name), join(modules, name));
    }
  }
  return "linked workspace node_modules";
}

/** The files an installed package holds, relative to its folder. */
export async function installedFiles(project: string, name: string): Promise<string[]> {
  const base = join(project, "node_modules", name);
  const entries = await readdir(base, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(base.length + 1))
    .sort();
}

/** Reads an installed package's package.json. */
export async function installedManifest(project: string, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(project, "node_modules", name, "package.json"), "utf8")) as Record<string, unknown>;
}
