import {
  MAX_NOTE_LENGTH,
  PermanentError,
  type StepContext,
  type StepStatus,
  type WorkflowOrder,
  type WorkflowStep,
} from "@orderstream/workflow";
import type { Logger } from "pino";

/** Defaults of a step's timing (see WorkflowStep). */
export const STEP_DEFAULTS = { timeoutMs: 30_000, attempts: 3, backoffMs: 1000 } as const;

/** How a step ended: its note on success, or why it failed for good. */
export type StepOutcome =
  | { ok: true; note: string | undefined }
  | { ok: false; reason: string; kind: "timeout" | "error" | "permanent"; attempts: number };

class StepTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = "StepTimeoutError";
  }
}

/**
 * Runs a workflow step for one order: each attempt with its own timeout (its `signal` aborts,
 * and the attempt counts failed whether or not the step notices), retries with exponential
 * backoff, a {@link PermanentError} at once final. Never throws: a throwing, hanging or
 * misbehaving step is a failed attempt.
 */
export async function runStep(
  status: StepStatus,
  step: WorkflowStep,
  order: WorkflowOrder,
  version: number,
  log: Logger,
  onAttemptFailed: () => void,
): Promise<StepOutcome> {
  const attempts = step.attempts ?? STEP_DEFAULTS.attempts;
  const timeoutMs = step.timeoutMs ?? STEP_DEFAULTS.timeoutMs;
  const backoffMs = step.backoffMs ?? STEP_DEFAULTS.backoffMs;
  const idempotencyKey = `${order.id}:${version}:${status}`;
  let last: { reason: string; kind: "timeout" | "error" } = { reason: "no attempt", kind: "error" };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let note: string | undefined;
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new StepTimeoutError(timeoutMs);
        ac.abort(err);
        reject(err);
      }, timeoutMs);
    });
    const ctx: StepContext = {
      order,
      idempotencyKey,
      attempt,
      signal: ac.signal,
      log: log.child({ orderId: order.id, step: status, attempt }),
      note(text: string) {
        if (typeof text !== "string" || text.length > MAX_NOTE_LENGTH)
          throw new TypeError(`note: must be a string of at most ${MAX_NOTE_LENGTH} characters`);
        note = text;
      },
    };
    try {
      await Promise.race([Promise.resolve().then(() => step.run?.(ctx)), timedOut]);
      return { ok: true, note };
    } catch (err) {
      onAttemptFailed();
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof PermanentError || (err as Error | null)?.name === "PermanentError")
        return { ok: false, reason: `${status} step: ${message}`.slice(0, 500), kind: "permanent", attempts: attempt };
      last = { reason: `${status} step: ${message}`.slice(0, 500), kind: err instanceof StepTimeoutError ? "timeout" : "error" };
      log.warn({ orderId: order.id, step: status, attempt, attempts, err: message }, "workflow step attempt failed");
    } finally {
      clearTimeout(timer);
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
  }
  return { ok: false, ...last, attempts };
}
