import { describe, expect, it } from "vitest";
import { defineWorkflow, validateWorkflow } from "./index.js";

describe("validateWorkflow", () => {
  it("takes a well-formed workflow", () => {
    const w = defineWorkflow({
      steps: { PENDING: { action: "confirm", run: () => undefined }, SHIPPED: { action: "deliver", delayMs: 10 } },
    });
    expect(Object.keys(w.steps)).toEqual(["PENDING", "SHIPPED"]);
  });

  it.each([
    [null, /an object with `steps`/],
    [{ steps: 3 }, /an object with `steps`/],
    [{ steps: { DELIVERED: { action: "deliver" } } }, /steps.DELIVERED: not a status a step runs in/],
    [{ steps: { PENDING: { action: "ship" } } }, /steps.PENDING.action: "ship" is not a transition out of PENDING \(confirm or cancel\)/],
    [{ steps: { PENDING: { action: "retry" } } }, /not a transition out of PENDING/],
    [{ steps: { PENDING: { action: "confirm", run: "charge" } } }, /steps.PENDING.run: must be a function/],
    [{ steps: { PENDING: { action: "confirm", timeoutMs: 0 } } }, /steps.PENDING.timeoutMs: must be an integer >= 1/],
    [{ steps: { PENDING: { action: "confirm", attempts: 1.5 } } }, /steps.PENDING.attempts/],
    [{ steps: { PENDING: { action: "confirm", delayMs: -1 } } }, /steps.PENDING.delayMs/],
    [{ steps: { PENDING: "confirm" } }, /steps.PENDING: must be an object/],
  ])("refuses %j naming what is wrong", (value, message) => {
    expect(() => validateWorkflow(value)).toThrow(message);
  });
});
