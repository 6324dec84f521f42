/** FAULT_SCALE (default 1) multiplies the sizes of the fault tests: sockets, clients, orders. */
export const FAULT_SCALE = (() => {
  const raw = process.env.FAULT_SCALE;
  const v = raw === undefined || raw === "" ? 1 : Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`FAULT_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  return v;
})();

/** `n` scaled by FAULT_SCALE, at least `min`. */
export function scaled(n: number, min = 1): number {
  return Math.max(min, Math.round(n * FAULT_SCALE));
}

/** Prints a one-line JSON summary of what a fault test checked (visible in the vitest output). */
export function report(test: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ test, faultScale: FAULT_SCALE, ...figures }));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
