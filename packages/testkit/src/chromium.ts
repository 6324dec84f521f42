import { existsSync } from "node:fs";

/** Debian's Chromium (or another Chromium-family browser found on the machine); undefined if none. */
export const CHROMIUM_PATH: string | undefined = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) =>
  existsSync(p),
);

/**
 * Headless Chromium as the tests start it (playwright-core's `executablePath` + `args`): no sandbox
 * (root), and none of its own network traffic, which this machine's closed network refuses.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** {@link CHROMIUM_PATH}, or a clear error for a test that needs the browser. */
export function chromiumPath(): string {
  if (!CHROMIUM_PATH) throw new Error("no Chromium on this machine: apt-get install chromium (node scripts/ensure-deps.mjs --test does)");
  return CHROMIUM_PATH;
}
