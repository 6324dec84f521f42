import * as wire from "@orderstream/wire";
import { describe, expect, it } from "vitest";
import { DOC_FILES, staleFiles } from "../../scripts/gen-protocol-docs.mjs";

// What is written about the protocol outside packages/wire (the README's tables, the edge's
// CLOSE_CODES.md, docs/protocol.md, the JSON Schema files) is generated from it; stale = red.
describe("the protocol's documents, generated from packages/wire", () => {
  it("are fresh (run `npm run gen:protocol` after changing packages/wire)", () => {
    expect(staleFiles(wire)).toEqual([]);
  });

  it("every document has the generated close-code table, and docs/protocol.md every code table", async () => {
    const { readFileSync } = await import("node:fs");
    for (const file of DOC_FILES)
      expect(readFileSync(new URL(`../../${file}`, import.meta.url), "utf8"), file).toContain("<!-- generated: close-codes -->");
    const protocol = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
    for (const block of ["error-codes", "action-error-codes"]) expect(protocol).toContain(`<!-- generated: ${block} -->`);
    for (const spec of Object.values(wire.CLOSE_CODE_TABLE)) expect(protocol).toContain(`| ${spec.code} | ${spec.reason} |`);
    for (const code of Object.keys(wire.ERROR_CODES)) expect(protocol).toContain(`| \`${code}\` |`);
  });

  it("docs/protocol.md shows an example of every frame type, in both directions", async () => {
    const { readFileSync } = await import("node:fs");
    const protocol = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
    for (const type of [...wire.CLIENT_FRAME_TYPES, ...wire.SERVER_FRAME_TYPES]) expect(protocol, type).toContain(`{"type":"${type}"`);
  });
});
