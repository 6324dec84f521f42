import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Gauge, type Registry } from "prom-client";

/** What a running service was built from: shown by `--version` and as `orderstream_build_info`. */
export interface BuildInfo {
  /** The orderstream version (the root package.json's, stamped at build time). */
  version: string;
  /** The git commit built (short hash), or "unknown" (a build outside a checkout without ORDERSTREAM_COMMIT). */
  commit: string;
  /** The Node.js version running it (`v24.1.0`). */
  node: string;
}

/** The stamp `npm run build` writes (packages/bus/scripts/stamp-build.mjs): dist/build-info.json. */
const STAMP = new URL("../build-info.json", import.meta.url);
/** The bus's own manifest: the version when no stamp was written (all packages share one version). */
const MANIFEST = new URL("../../package.json", import.meta.url);

function readJson(url: URL): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(url, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function gitCommit(): string {
  try {
    const cwd = dirname(fileURLToPath(import.meta.url));
    const out = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"], timeout: 2000 });
    return out.toString().trim() || "unknown";
  } catch {
    return "unknown";
  }
}

let cached: BuildInfo | undefined;

/** The build's version and commit: the build stamp, else the package version and `git rev-parse`, else "unknown". */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const stamp = readJson(STAMP);
  const version = typeof stamp?.version === "string" ? stamp.version : String(readJson(MANIFEST)?.version ?? "unknown");
  const commit = typeof stamp?.commit === "string" && stamp.commit !== "unknown" ? stamp.commit : gitCommit();
  cached = { version, commit, node: process.version };
  return cached;
}

/**
 * Adds `orderstream_build_info{service,version,commit,nodejs} 1` to `registry` (one per service
 * registry). The Node.js version is `nodejs`, not `node`: `node` is the edge node's name on every
 * edge series (a registry default label), and one label cannot mean both.
 */
export function registerBuildInfo(registry: Registry, service: string): Gauge<"service" | "version" | "commit" | "nodejs"> {
  const gauge = new Gauge({
    name: "orderstream_build_info",
    help: "Always 1; the labels say what the service was built from (version, git commit) and the Node.js version running it",
    labelNames: ["service", "version", "commit", "nodejs"] as const,
    registers: [registry],
  });
  const b = buildInfo();
  gauge.set({ service, version: b.version, commit: b.commit, nodejs: b.node }, 1);
  return gauge;
}
