import type { RequestId } from "@orderstream/wire";
import { DisconnectedError, RequestTimeoutError } from "./client-errors.js";

interface Pending {
  done: (frame: unknown) => void;
  fail: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests in flight, matched to their replies by the `id` the client put on each frame: any
 * number at once, answered in any order. Callbacks run synchronously with the reply frame, so what
 * a reply starts (e.g. subscribes after `connected`) goes out before the next frame is read. A reply
 * after the timeout finds no entry and is dropped.
 */
export class Requests {
  private readonly pending = new Map<RequestId, Pending>();
  private last = 0;

  constructor(private readonly timeoutMs: number) {}

  /** A fresh request id (numbers, increasing per client). */
  nextId(): number {
    return ++this.last;
  }

  /** Registers request `id`: `done` gets its reply, `fail` an error, a timeout (`what` names it) or a disconnect. */
  expect<T>(id: RequestId, what: string, done: (reply: T) => void, fail: (e: Error) => void): void {
    const timer = setTimeout(() => {
      if (this.pending.delete(id)) fail(new RequestTimeoutError(`${what}: no reply within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    this.pending.set(id, { done: done as (f: unknown) => void, fail, timer });
  }

  /** {@link expect} as a promise. */
  wait<T>(id: RequestId, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => this.expect(id, what, resolve, reject));
  }

  /** Settles request `id` with its reply; false when none waits (not ours, or timed out). */
  resolve(id: RequestId | undefined, frame: unknown): boolean {
    const p = id === undefined ? undefined : this.take(id);
    p?.done(frame);
    return p !== undefined;
  }

  /** Fails request `id`; false when none waits. */
  reject(id: RequestId | undefined, err: Error): boolean {
    const p = id === undefined ? undefined : this.take(id);
    p?.fail(err);
    return p !== undefined;
  }

  /** Fails everything (the connection closed: replies can no longer arrive). */
  rejectAll(reason: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.fail(new DisconnectedError(reason));
    }
  }

  private take(id: RequestId): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}
