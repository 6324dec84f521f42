import { createRequire } from "node:module";
import type uWS from "uWebSockets.js";

/** The uWebSockets.js module's shape (types from the `uWebSockets.js` package). */
export type Uws = typeof uWS;

/** One npm package that may hold a native uWebSockets.js build for this process. */
export interface UwsCandidate {
  /** The dependency name it is installed under (services/edge/package.json). */
  readonly name: string;
  /** What it is, for the start-up error. */
  readonly label: string;
  /** The Node ABIs (`process.versions.modules`) it ships a Linux x64 binary for. */
  readonly abis: readonly string[];
  /** The oldest glibc its Linux binaries load on. */
  readonly minGlibc: string;
}

/**
 * Where the native build comes from, first match wins: upstream's binaries for Node 20/22/24/25
 * (built on Ubuntu 24.04, so glibc 2.38+: Debian 13, the image), then an older build for Node 20
 * only that still loads on glibc 2.27+ (Debian 12). The second is an optional dependency.
 */
export const UWS_CANDIDATES: readonly UwsCandidate[] = [
  { name: "uWebSockets.js", label: "@btc-vision/uwebsockets.js@20.56.0 (uWS.js v20.56.0)", abis: ["115", "127", "137", "141"], minGlibc: "2.38" },
  {
    name: "uwebsockets.js-node20-glibc2.27",
    label: "@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0 (uWS.js v20.30.0)",
    abis: ["115"],
    minGlibc: "2.27",
  },
];

/** What the start-up error names about this process. */
export interface RuntimeFacts {
  nodeVersion: string;
  abi: string;
  platform: string;
  arch: string;
  /** The C library's version, or undefined where it is not glibc (musl, macOS, Windows). */
  glibc: string | undefined;
}

/** The running process's Node version, ABI, platform and glibc. */
export function runtimeFacts(): RuntimeFacts {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return {
    nodeVersion: process.version,
    abi: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    glibc: header?.glibcVersionRuntime,
  };
}

const isNative = (m: unknown): m is Uws =>
  typeof (m as Partial<Uws> | undefined)?.App === "function" && String((m as Uws).App).includes("[native code]");

/**
 * Loads the first candidate whose native build loads, refusing any pure-JS fallback
 * (UWS_USE_FALLBACK): the edge's fan-out and backpressure handling rely on the C++ build.
 * Throws one error naming the Node version, the ABI, the glibc found and the glibc needed.
 */
export function loadNativeUws(
  load: (name: string) => unknown,
  facts: RuntimeFacts = runtimeFacts(),
  candidates: readonly UwsCandidate[] = UWS_CANDIDATES,
): { uws: Uws; from: UwsCandidate } {
  const tried: string[] = [];
  for (const c of candidates) {
    if (facts.platform === "linux" && !c.abis.includes(facts.abi)) {
      tried.push(`  - ${c.label}: no binary for ABI ${facts.abi}`);
      continue;
    }
    let mod: unknown;
    try {
      mod = load(c.name);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const firstCause = reason.split("\n").filter((l) => l.trim() !== "").at(-1) ?? reason;
      tried.push(`  - ${c.label}: ${/Cannot find (module|package)/.test(reason) ? "not installed" : firstCause}`);
      continue;
    }
    if (isNative(mod)) return { uws: mod, from: c };
    tried.push(`  - ${c.label}: loaded a pure-JS fallback, not the native build (is UWS_USE_FALLBACK set?)`);
  }
  const glibc = facts.glibc === undefined ? "no glibc (musl or not Linux)" : `glibc ${facts.glibc}`;
  const needs = candidates.map((c) => `Node ABI ${c.abis.join("/")} with glibc >= ${c.minGlibc} (${c.label})`).join("; or ");
  throw new Error(
    `uWebSockets.js has no native build that loads on Node ${facts.nodeVersion} (ABI ${facts.abi}) on ` +
      `${facts.platform}-${facts.arch} with ${glibc}. Needs ${needs}. ` +
      `Node 22+ needs glibc >= 2.38 (Debian 13 trixie, Ubuntu 24.04, the orderstream image).\n${tried.join("\n")}`,
  );
}

let loaded: { uws: Uws; from: UwsCandidate } | undefined;

/** The native uWebSockets.js module for this process (loaded once), or a start-up error that says why not. */
export function nativeUws(): Uws {
  loaded ??= loadNativeUws(createRequire(import.meta.url));
  return loaded.uws;
}

/** Which package the native build came from (after {@link nativeUws}), for the start-up log. */
export function nativeUwsSource(): string | undefined {
  return loaded?.from.label;
}
