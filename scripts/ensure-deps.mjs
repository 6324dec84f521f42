#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the npm dependencies when
// node_modules is missing or older than package-lock.json, and redis-server from Debian's
// packages when it is missing (as root with apt-get; otherwise says how).
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

if (!process.env.REDIS_URL && !has("redis-server")) {
  if (process.getuid?.() === 0 && has("apt-get")) {
    console.log("installing redis-server (apt-get install -y redis-server)…");
    execSync("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server", {
      stdio: "inherit",
      shell: "/bin/sh",
    });
  } else {
    console.error("redis-server is not installed: run `sudo apt-get install -y redis-server`, or set REDIS_URL.");
    process.exit(1);
  }
}
