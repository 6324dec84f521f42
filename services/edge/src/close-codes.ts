import { CLOSE_CODE_TABLE, type CloseCodeSpec } from "@orderstream/client";

/** One close code as the edge sends it. */
export interface CloseCode {
  readonly code: number;
  readonly reason: string;
}

type Names<G extends CloseCodeSpec["group"]> = {
  [K in keyof typeof CLOSE_CODE_TABLE as (typeof CLOSE_CODE_TABLE)[K]["group"] extends G ? K : never]: CloseCode;
};

function group<G extends CloseCodeSpec["group"]>(g: G): Names<G> {
  const out: Record<string, CloseCode> = {};
  for (const [name, spec] of Object.entries(CLOSE_CODE_TABLE)) if (spec.group === g) out[name] = { code: spec.code, reason: spec.reason };
  return out as Names<G>;
}

/**
 * Every WebSocket close code the edge uses, from the wire contract (`@orderstream/client`'s
 * wire-contract.ts), grouped like centrifuge-js `codes.ts`: `reconnect` codes mean "transient or
 * on the server side: reconnect with backoff and resume from your last offsets"; `noReconnect`
 * codes mean "reconnecting as-is will fail again: fix the token / the client first".
 */
export const CLOSE_CODES = { reconnect: group("reconnect"), noReconnect: group("noReconnect") } as const;

const RECONNECT = new Set<number>(Object.values(CLOSE_CODES.reconnect).map((c) => c.code));

/** Whether a client should reconnect after a close with `code` (1000 normal closure: no). */
export function shouldReconnect(code: number): boolean {
  return RECONNECT.has(code);
}
