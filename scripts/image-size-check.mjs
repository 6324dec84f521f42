#!/usr/bin/env node
// Prints what the product image weighs and holds, and fails when it has grown past its budget or
// holds what only tests, load runs or the build need. scripts/compose-test.sh runs it right after
// scripts/product-image.sh, so CI stops before the compose test when the image is wrong.
// Printed: the image's size, what it adds to its base image, its node_modules and the largest
// packages in them, the workspaces inside. Failures (exit 1), each named:
//   - the image above IMAGE_BUDGET_MB, or what it adds to the base above ADDED_BUDGET_MB;
//   - a package of DENYLIST anywhere in its node_modules (a dev tool, a loadgen/testkit
//     dependency, a workspace the services do not import);
//   - a workspace other than scripts/runtime-workspaces.mjs's, or one of those missing.
// Usage: node scripts/image-size-check.mjs [tag] [base]   (DOCKER_HOST set; defaults
// orderstream:compose and node:24-trixie-slim). The helpers are exported for test/deploy.
import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { runtimeWorkspaces, workspaceNames } from "./runtime-workspaces.mjs";

/**
 * The whole image, in MB (1e6 bytes): 10 % above the 241.0 MB measured on 2026-12-04, of which
 * the base (the stand-in node:24-trixie-slim of scripts/container-images.sh) is 214.5 MB.
 */
export const IMAGE_BUDGET_MB = 265;
/**
 * What the image adds to its base (the dependencies and app layers), in MB: 10 % above the
 * 26.5 MB measured. The figure this project controls, whatever the base image weighs.
 */
export const ADDED_BUDGET_MB = 29;
/**
 * Packages the runtime image must not hold: the build's and tests' tools and the dependencies only
 * loadgen, testkit or the client use. A name ending in `/` is a whole scope.
 */
export const DENYLIST = [
  "ws",
  "hdr-histogram-js",
  "typescript",
  "vitest",
  "@vitest/",
  "@biomejs/",
  "esbuild",
  "@esbuild/",
  "playwright-core",
  "ts-proto",
  "@bufbuild/buf",
  "socket.io",
  "kubernetes-models",
];

/**
 * @typedef {{ path: string, name: string, bytes: number, link: boolean }} ImagePackage
 * @typedef {{ packages: ImagePackage[], workspaces: string[] }} ImageInventory
 */

/**
 * Lists every package under the image's node_modules (nested ones too) with its size in bytes
 * (files' lengths; a workspace's symlink counts 0), and the workspaces under packages/ and
 * services/. Runs inside the image (`node -e`), so it uses nothing but node:fs and node:path.
 */
function inventory() {
  const fs = require("node:fs");
  const path = require("node:path");
  const size = (p) => {
    const st = fs.lstatSync(p);
    if (!st.isDirectory()) return st.isSymbolicLink() ? 0 : st.size;
    return fs.readdirSync(p).reduce((sum, e) => sum + size(path.join(p, e)), 0);
  };
  const packages = [];
  const add = (p, name) => {
    const link = fs.lstatSync(p).isSymbolicLink();
    packages.push({ path: p, name, bytes: link ? 0 : size(p), link });
    if (!link) walk(path.join(p, "node_modules"));
  };
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir)) {
      if (e.startsWith(".")) continue;
      const p = path.join(dir, e);
      if (e.startsWith("@")) for (const s of fs.readdirSync(p)) add(path.join(p, s), `${e}/${s}`);
      else add(p, e);
    }
  };
  const workspaces = [];
  walk("node_modules");
  for (const top of ["packages", "services"])
    for (const w of fs.existsSync(top) ? fs.readdirSync(top) : []) {
      workspaces.push(`${top}/${w}`);
      walk(path.join(top, w, "node_modules"));
    }
  console.log(JSON.stringify({ packages, workspaces }));
}

/** True when a package name is on DENYLIST (exactly, or inside a denied scope). */
export function denied(name, denylist = DENYLIST) {
  return denylist.some((d) => (d.endsWith("/") ? name.startsWith(d) : name === d));
}

/**
 * Everything wrong with an image, one sentence each (empty when it passes).
 * @param {ImageInventory} inv  what inventory() found in the image
 * @param {{ imageBytes: number, baseBytes: number }} sizes
 * @param {{ runtime: string[], names: Map<string, string> }} workspaces  the runtime workspaces, and
 *   every workspace's package name by folder
 */
export function imageProblems(inv, sizes, workspaces) {
  const problems = [];
  const mb = (b) => b / 1e6;
  if (mb(sizes.imageBytes) > IMAGE_BUDGET_MB)
    problems.push(`the image is ${mb(sizes.imageBytes).toFixed(1)} MB, above its budget of ${IMAGE_BUDGET_MB} MB`);
  const added = sizes.imageBytes - sizes.baseBytes;
  if (mb(added) > ADDED_BUDGET_MB)
    problems.push(`the image adds ${mb(added).toFixed(1)} MB to its base, above the budget of ${ADDED_BUDGET_MB} MB`);
  const foreign = new Set([...workspaces.names].filter(([ws]) => !workspaces.runtime.includes(ws)).map(([, name]) => name));
  for (const p of inv.packages)
    if (denied(p.name) || foreign.has(p.name)) problems.push(`${p.path}: ${p.name} has no place in the runtime image`);
  for (const ws of inv.workspaces)
    if (!workspaces.runtime.includes(ws)) problems.push(`${ws}: not a workspace the services import (scripts/runtime-workspaces.mjs)`);
  for (const ws of workspaces.runtime) if (!inv.workspaces.includes(ws)) problems.push(`${ws}: missing from the image`);
  return problems;
}

/** The report's lines: sizes, node_modules, the largest packages, the workspaces. */
export function imageReport(tag, inv, sizes, top = 10) {
  const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
  const real = inv.packages.filter((p) => !p.link);
  const total = real.reduce((sum, p) => sum + p.bytes, 0);
  const largest = [...real].sort((a, b) => b.bytes - a.bytes).slice(0, top);
  return [
    `${tag}: ${mb(sizes.imageBytes)} (budget ${IMAGE_BUDGET_MB} MB); ${mb(sizes.imageBytes - sizes.baseBytes)} above its base ${mb(sizes.baseBytes)} (budget ${ADDED_BUDGET_MB} MB)`,
    `node_modules: ${mb(total)} in ${real.length} packages; the largest (nested node_modules included):`,
    ...largest.map((p) => `  ${mb(p.bytes).padStart(9)}  ${p.path}`),
    `workspaces: ${inv.workspaces.join(" ")}`,
  ];
}

function docker(args) {
  return execFileSync("docker", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }).trim();
}

function main() {
  const tag = process.argv[2] ?? "orderstream:compose";
  const base = process.argv[3] ?? "node:24-trixie-slim";
  if (!process.env.DOCKER_HOST) throw new Error("DOCKER_HOST is not set (run it through scripts/docker-engine.sh)");
  const start = Date.now();
  const sizes = {
    imageBytes: Number(docker(["image", "inspect", "-f", "{{.Size}}", tag])),
    baseBytes: Number(docker(["image", "inspect", "-f", "{{.Size}}", base])),
  };
  const inv = JSON.parse(docker(["run", "--rm", "--network", "none", tag, "node", "-e", `(${inventory.toString()})()`]));
  for (const line of imageReport(tag, inv, sizes)) console.log(`image-size-check: ${line}`);
  const problems = imageProblems(inv, sizes, { runtime: runtimeWorkspaces(), names: workspaceNames() });
  for (const p of problems) console.error(`image-size-check: FAIL ${p}`);
  console.log(
    `image-size-check: ${problems.length === 0 ? "passed" : `${problems.length} problem(s)`} in ${((Date.now() - start) / 1000).toFixed(1)} s`,
  );
  if (problems.length > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
