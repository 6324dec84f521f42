/** The pending order id a message names as `order <id>`, if any. */
export function orderNamedIn(message: string, ids: string[]): string | undefined {
  if (ids.length === 0) return undefined;
  const words = message.split(/\s+/);
  for (let i = 0; i + 1 < words.length; i++) if (words[i] === "order" && ids.includes(words[i + 1] as string)) return words[i + 1];
  return undefined;
}

/** A readable message for a thrown value or a socket error event (browsers give no details). */
export function describeError(v: unknown): string {
  if (v instanceof Error) return v.message;
  if (typeof v === "object" && v !== null) {
    const o = v as { message?: unknown; error?: unknown };
    if (typeof o.message === "string" && o.message) return o.message;
    if (o.error instanceof Error) return o.error.message;
  }
  return "connection failed";
}
