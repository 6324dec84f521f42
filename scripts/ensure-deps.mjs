#!/usr/bin/env node
// Makes `npm start`, `npm test` and `.ci/run` work on a fresh clone: installs the npm dependencies
// when node_modules is missing or older than package-lock.json (not with --ci, which runs its own
// `npm ci`), then the Debian packages that are missing (list and reasons in system-deps.mjs).
// Before installing anything it prints each package and why. apt-get runs only as root; with
// ORDERSTREAM_NO_APT=1 (or not root) it prints the `apt-get install` line instead and goes on,
// or stops with exit code 1 when a package the command cannot run without is missing.
//
// Usage: node scripts/ensure-deps.mjs [--test | --ci]   (default: what `npm start` needs)
import { execFileSync, execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { installPlan, missingPackages } from "./system-deps.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const marker = join(root, "node_modules/.package-lock.json");
const lock = join(root, "package-lock.json");
const purpose = process.argv.includes("--ci") ? "ci" : process.argv.includes("--test") ? "test" : "start";

if (purpose !== "ci" && (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs)) {
  console.log("installing npm dependencies (npm ci)…");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
}

function hasCommand(cmd) {
  try {
    execSync(`command -v ${cmd}`, { stdio: "ignore", shell: "/bin/sh" });
    return true;
  } catch {
    return false;
  }
}

function hasPython(module) {
  try {
    execFileSync("/usr/bin/python3", ["-c", `import ${module}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const missing = missingPackages(purpose, { command: hasCommand, python: hasPython }, { redisUrl: process.env.REDIS_URL });
const plan = installPlan(missing, {
  purpose,
  isRoot: process.getuid?.() === 0,
  hasApt: hasCommand("apt-get"),
  noApt: process.env.ORDERSTREAM_NO_APT === "1",
});
for (const line of plan.lines) (plan.exitCode === 0 ? console.log : console.error)(`ensure-deps: ${line}`);
if (plan.run) execSync(plan.run, { stdio: "inherit", shell: "/bin/sh" });
if (plan.exitCode !== 0) process.exit(plan.exitCode);
