#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the npm dependencies when
// node_modules is missing or older than package-lock.json, and the Debian packages that are
// missing (as root with apt-get; otherwise says how): redis-server for `npm start` when REDIS_URL
// is unset; with --test, what the tests use (redis-server, chromium, python3-grpcio,
// python3-grpc-tools, and prometheus for `promtool check rules` on the alert rules).
import { execFileSync, execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const marker = join(root, "node_modules/.package-lock.json");
const lock = join(root, "package-lock.json");

if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log("installing npm dependencies (npm ci)…");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
}

function has(cmd) {
  try {
    execSync(`command -v ${cmd}`, { stdio: "ignore", shell: "/bin/sh" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Debian packages the tests use: real Redis, Chromium for page tests, gRPC for the article's Python
 * client, promtool (Debian package prometheus) to check the alert rules under k8s/components/monitoring.
 */
function missingTestPackages() {
  const missing = [];
  if (!has("redis-server")) missing.push("redis-server");
  if (!has("chromium")) missing.push("chromium");
  if (!has("promtool")) missing.push("prometheus");
  try {
    execFileSync("/usr/bin/python3", ["-c", "import grpc, grpc_tools"], { stdio: "ignore" });
  } catch {
    missing.push("python3-grpcio", "python3-grpc-tools");
  }
  return missing;
}

const forTests = process.argv.includes("--test");
const missing = forTests ? missingTestPackages() : !process.env.REDIS_URL && !has("redis-server") ? ["redis-server"] : [];
if (missing.length > 0) {
  if (process.getuid?.() === 0 && has("apt-get")) {
    console.log(`installing ${missing.join(" ")} (apt-get install -y)…`);
    execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(" ")}`, {
      stdio: "inherit",
      shell: "/bin/sh",
    });
  } else if (missing.includes("redis-server") && !forTests) {
    console.error("redis-server is not installed: run `sudo apt-get install -y redis-server`, or set REDIS_URL.");
    process.exit(1);
  } else {
    console.error(`missing Debian packages for the tests: sudo apt-get install -y ${missing.join(" ")}`);
    process.exit(1);
  }
}
