// Bundles the SDK for browsers: dist/orderstream-client.browser.js (ESM, platform browser).
// Built from the TypeScript sources, so it needs no prior `tsc`; fails if anything pulls in Node code.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "orderstream-client.browser.js");

const result = await build({
  entryPoints: [join(root, "src", "index.ts")],
  outfile,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});
const inputs = Object.keys(result.metafile.inputs);
const nodeOnly = inputs.filter((p) => p.startsWith("node:") || p.includes("node_modules"));
if (nodeOnly.length > 0) {
  console.error(`browser bundle must not contain Node or third-party code, found: ${nodeOnly.join(", ")}`);
  process.exit(1);
}
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith(".js"))].bytes;
console.log(`wrote ${outfile} (${bytes} bytes from ${inputs.length} modules)`);
