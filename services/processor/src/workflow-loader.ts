import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "@orderstream/bus";
import { type Workflow, validateWorkflow } from "@orderstream/workflow";

/**
 * The default workflow: the demo timeline. Confirm and process at once, ship after `shipDelayMs`
 * and deliver after `deliverDelayMs` (0 = stop auto-advancing there: no step).
 */
export function demoWorkflow(shipDelayMs: number, deliverDelayMs: number): Workflow {
  return {
    name: "demo timeline",
    steps: {
      PENDING: { action: "confirm" },
      CONFIRMED: { action: "process" },
      ...(shipDelayMs > 0 ? { PROCESSING: { action: "ship", delayMs: shipDelayMs } } : {}),
      ...(deliverDelayMs > 0 ? { SHIPPED: { action: "deliver", delayMs: deliverDelayMs } } : {}),
    },
  };
}

/**
 * Loads the workflow module at `path` (PROCESSOR_WORKFLOW: a file path, relative to the working
 * directory, of an ES module whose default export, or `workflow` export, is a Workflow). A
 * module that does not load or exports the wrong shape is a {@link ConfigError} naming both.
 */
export async function loadWorkflow(path: string): Promise<Workflow> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`PROCESSOR_WORKFLOW: cannot load ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const value = mod.default ?? mod.workflow;
  if (value === undefined) throw new ConfigError(`PROCESSOR_WORKFLOW: ${path} has no default export (or \`workflow\` export)`);
  try {
    return validateWorkflow(value);
  } catch (err) {
    throw new ConfigError(`PROCESSOR_WORKFLOW: ${path}: ${(err as Error).message}`);
  }
}
