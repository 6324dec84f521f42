#!/usr/bin/env node
// Regenerates packages/proto/src/gen from proto/ with buf + ts-proto (offline, local plugins).
// With --check, generates into a temporary folder and fails when the committed code is stale.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "proto");
const genDir = join(root, "packages/proto/src/gen");
const buf = join(root, "node_modules/.bin/buf");
const check = process.argv.includes("--check");

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

execFileSync(buf, ["lint"], { cwd: protoDir, stdio: "inherit" });
const tmp = mkdtempSync(join(tmpdir(), "orderstream-gen-"));
try {
  const template = readFileSync(join(protoDir, "buf.gen.yaml"), "utf8").replace(
    "../packages/proto/src/gen",
    join(tmp, "gen"),
  );
  writeFileSync(join(tmp, "buf.gen.yaml"), template.replace("../node_modules", join(root, "node_modules")));
  execFileSync(buf, ["generate", "--template", join(tmp, "buf.gen.yaml")], { cwd: protoDir, stdio: "inherit" });
  const fresh = join(tmp, "gen");
  if (check) {
    const a = listFiles(fresh).map((f) => relative(fresh, f));
    const b = listFiles(genDir).map((f) => relative(genDir, f));
    const stale =
      a.join("\n") !== b.join("\n") ||
      a.some((f) => readFileSync(join(fresh, f), "utf8") !== readFileSync(join(genDir, f), "utf8"));
    if (stale) {
      console.error("packages/proto/src/gen is stale: run `npm run gen` and commit the result.");
      process.exit(1);
    }
    console.log("generated code is fresh");
  } else {
    rmSync(genDir, { recursive: true, force: true });
    cpSync(fresh, genDir, { recursive: true });
    console.log(`generated ${listFiles(genDir).length} files into ${relative(root, genDir)}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
