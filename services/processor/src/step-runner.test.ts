import { PermanentError, type WorkflowStep } from "@orderstream/workflow";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { runStep } from "./step-runner.js";

const order = { id: "o-1", userId: "u", items: [], total: 1, status: "PENDING", createdAt: "2026-01-01T00:00:00.000Z" };
const log = pino({ level: "silent" });

async function run(step: Partial<WorkflowStep>) {
  let failedAttempts = 0;
  const keys: string[] = [];
  const outcome = await runStep(
    "PENDING",
    {
      action: "confirm",
      attempts: 3,
      backoffMs: 1,
      timeoutMs: 50,
      ...step,
      run: (ctx) => (keys.push(`${ctx.idempotencyKey}#${ctx.attempt}`), step.run?.(ctx)),
    },
    order,
    7,
    log,
    () => failedAttempts++,
  );
  return { outcome, failedAttempts, keys };
}

describe("runStep", () => {
  it("succeeds with the step's note; the idempotency key is order, version and status", async () => {
    const r = await run({ run: (ctx) => ctx.note("payment captured") });
    expect(r.outcome).toEqual({ ok: true, note: "payment captured" });
    expect(r.keys).toEqual(["o-1:7:PENDING#1"]);
  });

  it("retries a step that throws (anything, even a string) with the same key, then fails it for good", async () => {
    const r = await run({
      run: () => {
        throw "boom";
      },
    });
    expect(r.outcome).toEqual({ ok: false, reason: "PENDING step: boom", kind: "error", attempts: 3 });
    expect(r.failedAttempts).toBe(3);
    expect(new Set(r.keys.map((k) => k.split("#")[0]))).toEqual(new Set(["o-1:7:PENDING"]));
  });

  it("aborts an attempt that hangs past its timeout (its signal fires) and counts it failed", async () => {
    let aborted = 0;
    const r = await run({
      attempts: 2,
      run: (ctx) =>
        new Promise<void>(() => {
          ctx.signal.addEventListener("abort", () => aborted++);
        }),
    });
    expect(r.outcome).toMatchObject({ ok: false, kind: "timeout", reason: "PENDING step: timed out after 50 ms", attempts: 2 });
    expect(aborted).toBe(2);
  });

  it("fails at once on a PermanentError", async () => {
    const r = await run({
      run: () => {
        throw new PermanentError("card declined");
      },
    });
    expect(r.outcome).toEqual({ ok: false, reason: "PENDING step: card declined", kind: "permanent", attempts: 1 });
  });

  it("succeeds on a later attempt", async () => {
    let n = 0;
    const r = await run({
      run: () => {
        if (++n < 3) throw new Error("503");
      },
    });
    expect(r.outcome).toEqual({ ok: true, note: undefined });
    expect(r.failedAttempts).toBe(2);
  });

  it("fails the attempt on a bad note (not a string, over 200 characters)", async () => {
    const r = await run({ attempts: 1, run: (ctx) => ctx.note("x".repeat(201)) });
    expect(r.outcome).toMatchObject({ ok: false, reason: expect.stringContaining("note: must be a string of at most 200 characters") });
  });
});
