import { describe, expect, it } from "vitest";
import { DUE_TOLERANCE_MS, dueAfter, nextStep } from "./order-steps.js";
import { demoWorkflow } from "./workflow-loader.js";

const demo = demoWorkflow(100, 200);
const now = 1_000_000;
const run = (action: string) => expect.objectContaining({ kind: "run", action });

describe("nextStep on the demo timeline", () => {
  it("confirms and processes at once", () => {
    expect(nextStep("PENDING", {}, now, demo)).toEqual(run("confirm"));
    expect(nextStep("CONFIRMED", {}, now, demo)).toEqual(run("process"));
  });

  it("delays ship and deliver by their delays", () => {
    expect(nextStep("PROCESSING", {}, now, demo)).toEqual({ kind: "delay", action: "ship", at: now + 100 });
    expect(nextStep("SHIPPED", {}, now, demo)).toEqual({ kind: "delay", action: "deliver", at: now + 200 });
  });

  it("runs a delayed step once it is due (within the tolerance), not before", () => {
    const data = { due: { action: "ship" as const, at: now + 50 } };
    expect(nextStep("PROCESSING", data, now, demo)).toEqual({ kind: "delay", action: "ship", at: now + 50 });
    expect(nextStep("PROCESSING", data, now + 50 - DUE_TOLERANCE_MS, demo)).toEqual(run("ship"));
    expect(nextStep("PROCESSING", data, now + 60, demo)).toEqual(run("ship"));
  });

  it("ignores a due step for another status (the order moved on meanwhile)", () => {
    const data = { due: { action: "ship" as const, at: now - 10 } };
    expect(nextStep("SHIPPED", data, now, demo)).toEqual({ kind: "delay", action: "deliver", at: now + 200 });
  });

  it("does an overdue order's delayed step at once (the due sweep queued it: its first job was lost)", () => {
    expect(nextStep("PROCESSING", { overdue: true }, now, demo)).toEqual(run("ship"));
    expect(nextStep("SHIPPED", { overdue: true }, now, demo)).toEqual(run("deliver"));
    // ... but auto-advancing stays off where it is off.
    expect(nextStep("SHIPPED", { overdue: true }, now, demoWorkflow(5, 0))).toMatchObject({ kind: "done" });
  });

  it("stops auto-advancing where a delay is 0", () => {
    expect(nextStep("PROCESSING", {}, now, demoWorkflow(0, 5))).toEqual({ kind: "done", reason: "stopped at PROCESSING" });
    expect(nextStep("SHIPPED", {}, now, demoWorkflow(5, 0))).toEqual({ kind: "done", reason: "stopped at SHIPPED" });
  });

  it("ends on DELIVERED, CANCELLED and FAILED", () => {
    for (const s of ["DELIVERED", "CANCELLED", "FAILED"]) expect(nextStep(s, {}, now, demo)).toEqual({ kind: "done", reason: s });
  });
});

describe("dueAfter", () => {
  it("gives when the next step is due for the due set, or none", () => {
    expect(dueAfter("CONFIRMED", demo)).toBe(0);
    expect(dueAfter("PROCESSING", demo)).toBe(100);
    expect(dueAfter("SHIPPED", demo)).toBe(200);
    expect(dueAfter("DELIVERED", demo)).toBe("none");
    expect(dueAfter("FAILED", demo)).toBe("none");
    expect(dueAfter("PROCESSING", demoWorkflow(0, 5))).toBe("none");
  });
});
