/**
 * An orderstream workflow: for each status of the order lifecycle, the step the processor runs
 * and the transition its success applies. A workflow module (PROCESSOR_WORKFLOW) exports one as
 * its default export (or as `workflow`); see docs/workflows.md.
 */

/** The statuses a step may run in (the others end the order's work, or wait for an operator). */
export const STEP_STATUSES = ["PENDING", "CONFIRMED", "PROCESSING", "SHIPPED"] as const;
/** A status a step may run in. */
export type StepStatus = (typeof STEP_STATUSES)[number];

/** The transition a step's success applies, and the statuses each applies from. */
export const STEP_ACTIONS = {
  confirm: ["PENDING"],
  process: ["CONFIRMED"],
  ship: ["PROCESSING"],
  deliver: ["SHIPPED"],
  cancel: ["PENDING", "CONFIRMED", "PROCESSING"],
} as const satisfies Record<string, readonly StepStatus[]>;
/** A transition a step's success may apply. */
export type StepAction = keyof typeof STEP_ACTIONS;

/** Longest note a step may attach to its event. */
export const MAX_NOTE_LENGTH = 200;

/** The order a step works on (its proto3 JSON form). */
export interface WorkflowOrder {
  id: string;
  userId: string;
  items: { productId: string; quantity: number; price: number }[];
  total: number;
  status: string;
  createdAt: string;
}

/** A structured logger (the processor's pino child, with the order and step bound). */
export interface StepLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What a step gets each time it runs. */
export interface StepContext {
  readonly order: WorkflowOrder;
  /**
   * `<order id>:<version>:<status>`: the same on every attempt and every rerun of this step for
   * this change of the order, and new for the next one. Pass it to other systems as their
   * idempotency key (a payment API's `Idempotency-Key`), so a step that runs twice charges once.
   */
  readonly idempotencyKey: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** Aborted when the step's timeout passes (or the processor stops): hand it to fetch and friends. */
  readonly signal: AbortSignal;
  readonly log: StepLogger;
  /**
   * Attaches a short note to the order's next event (a tracking number, "payment captured"): a
   * string of at most {@link MAX_NOTE_LENGTH} characters; anything else throws a TypeError, which
   * fails the attempt.
   */
  note(text: string): void;
}

/** One step of a workflow. */
export interface WorkflowStep {
  /** The work; resolves when done, throws to fail the attempt (a {@link PermanentError}: no retry). Absent: no work, just the transition. */
  run?: (ctx: StepContext) => Promise<void> | void;
  /** The transition its success applies (one of the transitions out of its status). */
  action: StepAction;
  /** How long after reaching the status the step runs (a timer: "ship after 2 s"). Default 0. */
  delayMs?: number;
  /** How long one attempt may take before it is aborted and counted failed. Default 30,000. */
  timeoutMs?: number;
  /** Attempts before the order is FAILED. Default 3. */
  attempts?: number;
  /** Wait before the second attempt; doubled for each later one. Default 1,000. */
  backoffMs?: number;
}

/** A workflow: the step for each status it works on. A status without a step stops there. */
export interface Workflow {
  name?: string;
  steps: Partial<Record<StepStatus, WorkflowStep>>;
}

/** Throw it from a step to fail the order at once, without further attempts (a card declined). */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentError";
  }
}

/** Checks a workflow's shape and returns it; throws a TypeError that says what is wrong. */
export function defineWorkflow(w: Workflow): Workflow {
  return validateWorkflow(w);
}

const int = (v: unknown, min: number): boolean => v === undefined || (Number.isInteger(v) && (v as number) >= min);

/** {@link defineWorkflow} for a value of unknown shape (what a module exported). */
export function validateWorkflow(value: unknown): Workflow {
  const w = value as Workflow | null;
  if (typeof w !== "object" || w === null || typeof w.steps !== "object" || w.steps === null)
    throw new TypeError("a workflow is an object with `steps` (status -> step)");
  for (const [status, step] of Object.entries(w.steps as Record<string, WorkflowStep | undefined>)) {
    if (!(STEP_STATUSES as readonly string[]).includes(status))
      throw new TypeError(`steps.${status}: not a status a step runs in (one of ${STEP_STATUSES.join(", ")})`);
    if (step === undefined) continue;
    if (typeof step !== "object" || step === null) throw new TypeError(`steps.${status}: must be an object`);
    const from = (STEP_ACTIONS as Record<string, readonly string[]>)[step.action];
    if (!from?.includes(status))
      throw new TypeError(
        `steps.${status}.action: ${JSON.stringify(step.action)} is not a transition out of ${status} (${actionsFrom(status)})`,
      );
    if (step.run !== undefined && typeof step.run !== "function") throw new TypeError(`steps.${status}.run: must be a function`);
    if (!int(step.delayMs, 0)) throw new TypeError(`steps.${status}.delayMs: must be an integer >= 0`);
    if (!int(step.timeoutMs, 1)) throw new TypeError(`steps.${status}.timeoutMs: must be an integer >= 1`);
    if (!int(step.attempts, 1)) throw new TypeError(`steps.${status}.attempts: must be an integer >= 1`);
    if (!int(step.backoffMs, 0)) throw new TypeError(`steps.${status}.backoffMs: must be an integer >= 0`);
  }
  return w as Workflow;
}

function actionsFrom(status: string): string {
  return Object.entries(STEP_ACTIONS)
    .filter(([, from]) => (from as readonly string[]).includes(status))
    .map(([a]) => a)
    .join(" or ");
}
