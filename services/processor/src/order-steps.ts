import type { OrderJobData } from "@orderstream/bus";
import type { OrderActionName } from "@orderstream/domain";
import type { StepStatus, Workflow, WorkflowStep } from "@orderstream/workflow";

export type { OrderJobData };

/** What to do next with an order, decided from its current status and the workflow alone. */
export type NextStep =
  | { kind: "run"; status: StepStatus; step: WorkflowStep; action: OrderActionName }
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

/** The workflow's step for `status`, if it has one. */
function stepOf(workflow: Workflow, status: string): WorkflowStep | undefined {
  return (workflow.steps as Record<string, WorkflowStep | undefined>)[status];
}

/**
 * The processor's state machine, derived from the order's current status so that a retried,
 * stalled or duplicated job resumes where the order actually is and never repeats a step: the
 * workflow's step for the status, after its delay; DELIVERED, CANCELLED, FAILED and statuses the
 * workflow has no step for end the job.
 */
export function nextStep(status: string, data: StepTiming, now: number, workflow: Workflow): NextStep {
  const step = stepOf(workflow, status);
  if (!step) {
    const ended = status === "DELIVERED" || status === "CANCELLED" || status === "FAILED";
    return { kind: "done", reason: ended ? status : `stopped at ${status}` };
  }
  const run = { kind: "run", status: status as StepStatus, step, action: step.action } as const;
  const delayMs = step.delayMs ?? 0;
  if (delayMs <= 0 || data.overdue) return run;
  const due = data.due;
  if (due && due.action === step.action) return due.at <= now + DUE_TOLERANCE_MS ? run : { kind: "delay", action: step.action, at: due.at };
  return { kind: "delay", action: step.action, at: now + delayMs };
}

/**
 * When the step after reaching `status` is due, in ms from now, for the order's entry in its
 * partition's due set; "none" when nothing is due (the workflow has no step there).
 */
export function dueAfter(status: string, workflow: Workflow): number | "none" {
  const step = stepOf(workflow, status);
  return step ? (step.delayMs ?? 0) : "none";
}
