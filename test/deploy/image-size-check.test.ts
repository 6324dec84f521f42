// What scripts/image-size-check.mjs (run by the compose test on the real image) refuses, on
// made-up inventories: a lean image passes, growth past a budget or a test-only package fails.
import { describe, expect, it } from "vitest";
import { ADDED_BUDGET_MB, IMAGE_BUDGET_MB, denied, imageProblems, imageReport } from "../../scripts/image-size-check.mjs";
import { runtimeWorkspaces, workspaceNames } from "../../scripts/runtime-workspaces.mjs";

const workspaces = { runtime: runtimeWorkspaces(), names: workspaceNames() };
const base = 214.5e6;
const lean = { imageBytes: base + 26.5e6, baseBytes: base };
const pkg = (path: string, bytes = 1e5) => ({ path, name: path.replace(/^.*node_modules\//, ""), bytes, link: false });
const inventory = (extra: ReturnType<typeof pkg>[] = [], extraWorkspaces: string[] = []) => ({
  packages: [
    pkg("node_modules/zod", 2.3e6),
    pkg("node_modules/bullmq", 3.3e6),
    pkg("services/edge/node_modules/uWebSockets.js", 7e6),
    { path: "node_modules/@orderstream/bus", name: "@orderstream/bus", bytes: 0, link: true },
    ...extra,
  ],
  workspaces: [...runtimeWorkspaces(), ...extraWorkspaces],
});

describe("image-size-check", () => {
  it("passes the image of the services and what they import, within both budgets", () => {
    expect(imageProblems(inventory(), lean, workspaces)).toEqual([]);
  });

  it("fails an image above its budget, or adding more than its budget to the base", () => {
    const grown = { imageBytes: base + (ADDED_BUDGET_MB + 1) * 1e6, baseBytes: base };
    expect(imageProblems(inventory(), grown, workspaces)).toEqual([expect.stringMatching(/adds 30\.0 MB to its base, above the budget/)]);
    const heavyBase = { imageBytes: (IMAGE_BUDGET_MB + 1) * 1e6, baseBytes: (IMAGE_BUDGET_MB - 20) * 1e6 };
    expect(imageProblems(inventory(), heavyBase, workspaces)).toEqual([expect.stringMatching(/the image is 266\.0 MB, above its budget/)]);
  });

  it("fails on a dev tool or a loadgen/testkit dependency anywhere in node_modules, nested ones too", () => {
    const problems = imageProblems(
      inventory([pkg("node_modules/ws"), pkg("node_modules/bullmq/node_modules/typescript"), pkg("node_modules/@biomejs/biome")]),
      lean,
      workspaces,
    );
    expect(problems).toEqual([
      "node_modules/ws: ws has no place in the runtime image",
      "node_modules/bullmq/node_modules/typescript: typescript has no place in the runtime image",
      "node_modules/@biomejs/biome: @biomejs/biome has no place in the runtime image",
    ]);
    expect(denied("@esbuild/linux-x64")).toBe(true);
    expect(denied("wsx")).toBe(false);
  });

  it("fails on a workspace the services do not import, and on a runtime workspace missing", () => {
    const inv = inventory(
      [{ path: "node_modules/@orderstream/loadgen", name: "@orderstream/loadgen", bytes: 0, link: true }],
      ["packages/testkit"],
    );
    inv.workspaces = inv.workspaces.filter((ws) => ws !== "packages/wire");
    expect(imageProblems(inv, lean, workspaces)).toEqual([
      "node_modules/@orderstream/loadgen: @orderstream/loadgen has no place in the runtime image",
      "packages/testkit: not a workspace the services import (scripts/runtime-workspaces.mjs)",
      "packages/wire: missing from the image",
    ]);
  });

  it("prints the sizes, the node_modules total and the largest packages first", () => {
    const lines = imageReport("orderstream:test", inventory(), lean, 2);
    expect(lines[0]).toBe(
      `orderstream:test: 241.0 MB (budget ${IMAGE_BUDGET_MB} MB); 26.5 MB above its base 214.5 MB (budget ${ADDED_BUDGET_MB} MB)`,
    );
    expect(lines[1]).toMatch(/^node_modules: 12\.6 MB in 3 packages/);
    expect(lines.slice(2, 4).map((l) => l.trim())).toEqual([
      "7.0 MB  services/edge/node_modules/uWebSockets.js",
      "3.3 MB  node_modules/bullmq",
    ]);
  });
});
