#!/usr/bin/env node
// The workspaces the product image holds: the three services and the @orderstream packages they
// import at run time (their `dependencies`, followed transitively). testkit, client and loadgen
// are for tests, browsers and load runs: neither they nor their dependencies go into the image.
// scripts/product-image.sh installs and copies these; test/deploy/image.test.ts checks the
// Dockerfile's lists against them; scripts/image-size-check.mjs refuses an image with any other.
// Usage: node scripts/runtime-workspaces.mjs   (prints them, one a line, in package.json order)
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Every workspace folder of the root package.json, in its order. */
export function allWorkspaces(root = ROOT) {
  return /** @type {string[]} */ (JSON.parse(readFileSync(join(root, "package.json"), "utf8")).workspaces);
}

/** Every workspace's package name (`@orderstream/bus`), by folder. */
export function workspaceNames(root = ROOT) {
  return new Map(allWorkspaces(root).map((ws) => [ws, /** @type {string} */ (readManifest(root, ws).name)]));
}

function readManifest(root, ws) {
  return JSON.parse(readFileSync(join(root, ws, "package.json"), "utf8"));
}

/** The services (`services/*`) and every workspace they depend on at run time, in package.json order. */
export function runtimeWorkspaces(root = ROOT) {
  const all = allWorkspaces(root);
  const manifests = new Map(all.map((ws) => [ws, readManifest(root, ws)]));
  const byName = new Map(all.map((ws) => [manifests.get(ws).name, ws]));
  const keep = new Set();
  const visit = (ws) => {
    if (keep.has(ws)) return;
    keep.add(ws);
    for (const dep of Object.keys(manifests.get(ws).dependencies ?? {})) {
      const target = byName.get(dep);
      if (target !== undefined) visit(target);
    }
  };
  for (const ws of all) if (ws.startsWith("services/")) visit(ws);
  return all.filter((ws) => keep.has(ws));
}

/** The services alone: what `npm ci --workspace` names for the image. */
export function serviceWorkspaces(root = ROOT) {
  return allWorkspaces(root).filter((ws) => ws.startsWith("services/"));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const which = process.argv[2] === "--services" ? serviceWorkspaces() : runtimeWorkspaces();
  console.log(which.join("\n"));
}
