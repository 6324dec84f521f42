import type { OrderJobData } from "@orderstream/bus";
import type { OrderActionName } from "@orderstream/domain";

export type { OrderJobData };

/** How long the processor waits before the delayed steps (0 = stop auto-advancing there). */
export interface StepDelays {
  shipDelayMs: number;
  deliverDelayMs: number;
}

/** What to do next with an order, decided from its current status alone. */
export type NextStep =
  | { kind: "transition"; action: OrderActionName }
  | { kind: "delay"; action: OrderActionName; at: number }
  | { kind: "done"; reason: string };

/** A delayed job woken this close before its due time counts as due (clock skew between hosts). */
export const DUE_TOLERANCE_MS = 5;

/** What a job knows of an order's timing: its delayed step, and whether the order is overdue. */
export type StepTiming = {
  due?: OrderJobData["due"] | undefined;
  /** The due sweep queued this job: the order's current step was due long ago (its job was lost). */
  overdue?: boolean;
};

function delayed(action: OrderActionName, delayMs: number, status: string, data: StepTiming, now: number): NextStep {
  if (delayMs <= 0) return { kind: "done", reason: `stopped at ${status}` };
  if (data.overdue) return { kind: "transition", action };
  const due = data.due;
  if (due && due.action === action) {
    if (due.at <= now + DUE_TOLERANCE_MS) return { kind: "transition", action };
    return { kind: "delay", action, at: due.at };
  }
  return { kind: "delay", action, at: now + delayMs };
}

/**
 * When the step after reaching `status` is due, in ms from now, for the order's entry in its
 * partition's due set; "none" when nothing is due (a terminal status, or auto-advancing stops).
 */
export function dueAfter(status: string, delays: StepDelays): number | "none" {
  switch (status) {
    case "PENDING":
    case "CONFIRMED":
      return 0;
    case "PROCESSING":
      return delays.shipDelayMs > 0 ? delays.shipDelayMs : "none";
    case "SHIPPED":
      return delays.deliverDelayMs > 0 ? delays.deliverDelayMs : "none";
    default:
      return "none";
  }
}

/**
 * The processor's state machine, derived from the order's current status so that a retried,
 * stalled or duplicated job resumes where the order actually is and never repeats a step:
 * PENDING -> confirm, CONFIRMED -> process, PROCESSING -> ship after the ship delay,
 * SHIPPED -> deliver after the deliver delay; DELIVERED and CANCELLED end the job.
 */
export function nextStep(status: string, data: StepTiming, now: number, delays: StepDelays): NextStep {
  switch (status) {
    case "PENDING":
      return { kind: "transition", action: "confirm" };
    case "CONFIRMED":
      return { kind: "transition", action: "process" };
    case "PROCESSING":
      return delayed("ship", delays.shipDelayMs, status, data, now);
    case "SHIPPED":
      return delayed("deliver", delays.deliverDelayMs, status, data, now);
    case "DELIVERED":
    case "CANCELLED":
      return { kind: "done", reason: status };
    default:
      return { kind: "done", reason: `unknown status ${status}` };
  }
}
