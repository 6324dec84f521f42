// Builds the SDK's distributable files from the TypeScript sources (after `tsc -b`, which writes
// the declarations to dist/types). Every build inlines @orderstream/wire, so the package has no
// runtime dependencies:
//   dist/index.js                     ESM (Node and bundlers)
//   dist/index.cjs                    CommonJS (require)
//   dist/orderstream-client.browser.js  ESM, minified, for <script type="module"> (`@orderstream/client/browser`)
//   dist/orderstream-client.min.js    IIFE, minified, for a plain <script> tag: global `OrderStream`
// The wire's declarations are copied under dist/types/wire and imported relatively. Fails if Node
// or third-party code would end up in a build, or if the script-tag file grows past 10 KB gzipped.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const entry = join(root, "src", "index.ts");
const MAX_GZIP_BYTES = 10 * 1024;

/** @type {import("esbuild").BuildOptions} */
const common = { entryPoints: [entry], bundle: true, target: ["es2022"], metafile: true, logLevel: "warning", legalComments: "none" };
/** @type {(import("esbuild").BuildOptions & { outfile: string })[]} */
const builds = [
  { outfile: join(dist, "index.js"), format: "esm", platform: "neutral", sourcemap: true },
  { outfile: join(dist, "index.cjs"), format: "cjs", platform: "neutral", sourcemap: true },
  { outfile: join(dist, "orderstream-client.browser.js"), format: "esm", platform: "browser", minify: true, sourcemap: true },
  { outfile: join(dist, "orderstream-client.min.js"), format: "iife", globalName: "OrderStream", platform: "browser", minify: true },
];
for (const b of builds) {
  const result = await build({ ...common, ...b });
  const inputs = Object.keys(result.metafile?.inputs ?? {});
  const foreign = inputs.filter((p) => p.startsWith("node:") || p.includes("node_modules/") || p.includes("/ajv"));
  if (foreign.length > 0) {
    console.error(`${b.outfile}: the SDK build must not contain Node or third-party code, found: ${foreign.join(", ")}`);
    process.exit(1);
  }
  const text = readFileSync(b.outfile);
  const gz = gzipSync(text, { level: 9 }).length;
  console.log(`wrote ${relative(root, b.outfile)}: ${text.length} bytes, ${gz} bytes gzipped (${inputs.length} modules)`);
  if (b.format === "iife" && gz > MAX_GZIP_BYTES) {
    console.error(`the script-tag build is ${gz} bytes gzipped, over the ${MAX_GZIP_BYTES} byte budget`);
    process.exit(1);
  }
}

// Declarations: tsc wrote dist/types/*.d.ts importing "@orderstream/wire"; ship the wire's beside them.
const types = join(dist, "types");
const wireTypes = join(root, "..", "wire", "dist");
if (!existsSync(join(types, "index.d.ts")) || !existsSync(join(wireTypes, "index.d.ts"))) {
  console.error("dist/types or the wire's declarations are missing: run `tsc -b packages/client` first");
  process.exit(1);
}
mkdirSync(join(types, "wire"), { recursive: true });
for (const f of readdirSync(wireTypes))
  if (f.endsWith(".d.ts") && !f.endsWith(".test.d.ts") && f !== "frame-validator.d.ts")
    copyFileSync(join(wireTypes, f), join(types, "wire", f));
for (const f of readdirSync(types)) {
  if (!f.endsWith(".d.ts")) continue;
  const path = join(types, f);
  const text = readFileSync(path, "utf8");
  const fixed = text.replaceAll('"@orderstream/wire"', '"./wire/index.js"');
  if (fixed !== text) writeFileSync(path, fixed);
}
console.log("wrote dist/types (with the wire's declarations in dist/types/wire)");
