// Writes packages/bus/dist/build-info.json, the build stamp every service reports (`--version`,
// `orderstream_build_info`): the root package.json's version and the commit built, taken from
// ORDERSTREAM_COMMIT (the image build passes it as a build argument: no .git in the context),
// else `git rev-parse`, else "unknown". Run by `npm run build` after `tsc -b`.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const root = new URL("../../../", import.meta.url);
const version = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).version;

/** @returns {string} */
function commit() {
  const fromEnv = process.env.ORDERSTREAM_COMMIT?.trim();
  if (fromEnv) return fromEnv.slice(0, 12);
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

const out = new URL("../dist/", import.meta.url);
mkdirSync(out, { recursive: true });
const stamp = { version, commit: commit() };
writeFileSync(new URL("build-info.json", out), `${JSON.stringify(stamp)}\n`);
console.log(`stamped orderstream ${stamp.version} (${stamp.commit})`);
