// Writes what is generated from the protocol's one home (packages/wire): the tables between
// `<!-- generated: NAME -->` and `<!-- end generated -->` in the Markdown files below, and one JSON
// Schema file per frame under packages/wire/schemas/. `--check` writes nothing and exits 1 when a
// file is stale (test/contract/protocol-docs.test.ts runs the same check).
//   npm run gen:protocol            (after `npm run build`, it reads packages/wire/dist)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The Markdown files with generated blocks, and which blocks each holds. */
export const DOC_FILES = ["README.md", "services/edge/CLOSE_CODES.md", "docs/protocol.md"];

const BLOCK = /<!-- generated: ([a-z-]+) -->\n[\s\S]*?<!-- end generated -->/g;

/** Every generated file's expected content, by path relative to the repository root. */
export function expectedFiles(wire, root = ROOT) {
  const blocks = {
    "close-codes": wire.closeCodeTableMarkdown(),
    "error-codes": wire.errorCodeTableMarkdown(),
    "action-error-codes": wire.actionErrorCodeTableMarkdown(),
    "error-code-list": wire.errorCodeListMarkdown(),
  };
  const out = new Map();
  for (const file of DOC_FILES) {
    const text = readFileSync(join(root, file), "utf8");
    out.set(
      file,
      text.replace(BLOCK, (_, name) => {
        if (!(name in blocks)) throw new Error(`${file}: unknown generated block ${name}`);
        return `<!-- generated: ${name} -->\n${blocks[name]}\n<!-- end generated -->`;
      }),
    );
  }
  for (const [side, schemas] of [
    ["client", wire.CLIENT_FRAME_SCHEMAS],
    ["server", wire.SERVER_FRAME_SCHEMAS],
  ])
    for (const [type, schema] of Object.entries(schemas))
      out.set(`packages/wire/schemas/${side}/${type}.schema.json`, `${JSON.stringify(schema, null, 2)}\n`);
  return out;
}

/** The generated files that differ from what is on disk. */
export function staleFiles(wire, root = ROOT) {
  const stale = [];
  for (const [file, content] of expectedFiles(wire, root)) {
    const path = join(root, file);
    if (!existsSync(path) || readFileSync(path, "utf8") !== content) stale.push(file);
  }
  return stale;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const wire = await import(pathToFileURL(join(ROOT, "packages/wire/dist/index.js")).href);
  if (process.argv.includes("--check")) {
    const stale = staleFiles(wire);
    if (stale.length > 0) {
      console.error(`stale generated protocol files (run npm run gen:protocol): ${stale.join(", ")}`);
      process.exit(1);
    }
    console.log("generated protocol files are fresh");
  } else {
    for (const [file, content] of expectedFiles(wire)) {
      const path = join(ROOT, file);
      mkdirSync(dirname(path), { recursive: true });
      if (!existsSync(path) || readFileSync(path, "utf8") !== content) {
        writeFileSync(path, content);
        console.log(`wrote ${file}`);
      }
    }
  }
}
