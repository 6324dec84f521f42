import { describe, expect, it } from "vitest";
import { DUE_TOLERANCE_MS, dueAfter, nextStep } from "./order-steps.js";

const delays = { shipDelayMs: 100, deliverDelayMs: 200 };
const now = 1_000_000;

describe("nextStep", () => {
  it("confirms and processes at once", () => {
    expect(nextStep("PENDING", {}, now, delays)).toEqual({ kind: "transition", action: "confirm" });
    expect(nextStep("CONFIRMED", {}, now, delays)).toEqual({ kind: "transition", action: "process" });
  });

  it("delays ship and deliver by their configured delays", () => {
    expect(nextStep("PROCESSING", {}, now, delays)).toEqual({ kind: "delay", action: "ship", at: now + 100 });
    expect(nextStep("SHIPPED", {}, now, delays)).toEqual({ kind: "delay", action: "deliver", at: now + 200 });
  });

  it("applies a due step once its time has come, and keeps the original due time before", () => {
    const data = { due: { action: "ship" as const, at: now + 50 } };
    expect(nextStep("PROCESSING", data, now, delays)).toEqual({ kind: "delay", action: "ship", at: now + 50 });
    expect(nextStep("PROCESSING", data, now + 50 - DUE_TOLERANCE_MS, delays)).toEqual({ kind: "transition", action: "ship" });
    expect(nextStep("PROCESSING", data, now + 60, delays)).toEqual({ kind: "transition", action: "ship" });
  });

  it("ignores a due step for another status (the order moved on meanwhile)", () => {
    const data = { due: { action: "ship" as const, at: now - 10 } };
    expect(nextStep("SHIPPED", data, now, delays)).toEqual({ kind: "delay", action: "deliver", at: now + 200 });
  });

  it("does an overdue order's delayed step at once (the due sweep queued it: its first job was lost)", () => {
    expect(nextStep("PROCESSING", { overdue: true }, now, delays)).toEqual({ kind: "transition", action: "ship" });
    expect(nextStep("SHIPPED", { overdue: true }, now, delays)).toEqual({ kind: "transition", action: "deliver" });
    // ... but auto-advancing stays off where it is off.
    expect(nextStep("SHIPPED", { overdue: true }, now, { shipDelayMs: 5, deliverDelayMs: 0 })).toMatchObject({ kind: "done" });
  });

  it("stops auto-advancing where a delay is 0", () => {
    expect(nextStep("PROCESSING", {}, now, { shipDelayMs: 0, deliverDelayMs: 5 })).toEqual({
      kind: "done",
      reason: "stopped at PROCESSING",
    });
    expect(nextStep("SHIPPED", {}, now, { shipDelayMs: 5, deliverDelayMs: 0 })).toEqual({
      kind: "done",
      reason: "stopped at SHIPPED",
    });
  });

  it("ends on terminal statuses", () => {
    expect(nextStep("DELIVERED", {}, now, delays)).toEqual({ kind: "done", reason: "DELIVERED" });
    expect(nextStep("CANCELLED", {}, now, delays)).toEqual({ kind: "done", reason: "CANCELLED" });
  });
});

describe("dueAfter", () => {
  it("gives when the next step is due for the due set, or none", () => {
    const delays = { shipDelayMs: 100, deliverDelayMs: 200 };
    expect(dueAfter("CONFIRMED", delays)).toBe(0);
    expect(dueAfter("PROCESSING", delays)).toBe(100);
    expect(dueAfter("SHIPPED", delays)).toBe(200);
    expect(dueAfter("DELIVERED", delays)).toBe("none");
    expect(dueAfter("PROCESSING", { shipDelayMs: 0, deliverDelayMs: 5 })).toBe("none");
  });
});
