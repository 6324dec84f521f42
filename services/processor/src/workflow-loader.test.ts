import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceEntry } from "@orderstream/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { loadWorkflow } from "./workflow-loader.js";

const dir = mkdtempSync(join(tmpdir(), "os-workflow-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("loadWorkflow", () => {
  it("loads a module's default export, or its `workflow` export", async () => {
    const a = file("a.mjs", 'export default { steps: { PENDING: { action: "confirm" } } };');
    const b = file("b.mjs", 'export const workflow = { steps: { PENDING: { action: "cancel" } } };');
    expect((await loadWorkflow(a)).steps.PENDING?.action).toBe("confirm");
    expect((await loadWorkflow(b)).steps.PENDING?.action).toBe("cancel");
  });

  it("names the module and what is wrong", async () => {
    await expect(loadWorkflow(join(dir, "missing.mjs"))).rejects.toThrow(/PROCESSOR_WORKFLOW: cannot load .*missing\.mjs/);
    await expect(loadWorkflow(file("syntax.mjs", "export default {"))).rejects.toThrow(/PROCESSOR_WORKFLOW: cannot load .*syntax\.mjs/);
    await expect(loadWorkflow(file("throws.mjs", 'throw new Error("no PAYMENT_URL");'))).rejects.toThrow(/no PAYMENT_URL/);
    await expect(loadWorkflow(file("none.mjs", "export const x = 1;"))).rejects.toThrow(/none\.mjs has no default export/);
    await expect(loadWorkflow(file("shape.mjs", 'export default { steps: { PENDING: { action: "deliver" } } };'))).rejects.toThrow(
      /shape\.mjs: steps.PENDING.action: "deliver" is not a transition out of PENDING/,
    );
  });

  it("stops the processor's start-up with exit code 2 and the message", () => {
    const bad = file("bad.mjs", 'export default { steps: { SHIPPED: { action: "confirm" } } };');
    const r = spawnSync(process.execPath, [serviceEntry("processor")], {
      env: { ...process.env, REDIS_URL: "redis://127.0.0.1:1", PROCESSOR_WORKFLOW: bad, LOG_LEVEL: "silent" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("steps.SHIPPED.action");
  });
});
