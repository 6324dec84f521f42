import { DisconnectedError, RequestTimeoutError, type ServerError } from "./client-errors.js";
import type { ProcessOrderResult } from "./protocol.js";

interface Pending {
  resolve: (r: ProcessOrderResult) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * `process_order` requests awaiting their result. The protocol has no request id, so results are
 * matched by order id, first in first out per order. A request that timed out leaves a "skip" so
 * its late result is dropped instead of being handed to the next request for the same order.
 */
export class PendingActions {
  private readonly byOrder = new Map<string, Pending[]>();
  private readonly skip = new Map<string, number>();

  constructor(private readonly timeoutMs: number) {}

  /** Registers a request for `orderId`; the promise settles with its result, an error or a timeout. */
  add(orderId: string): Promise<ProcessOrderResult> {
    return new Promise<ProcessOrderResult>((resolve, reject) => {
      const entry: Pending = {
        resolve,
        reject,
        timer: setTimeout(() => {
          if (!this.remove(orderId, entry)) return;
          this.skip.set(orderId, (this.skip.get(orderId) ?? 0) + 1);
          reject(new RequestTimeoutError(`process_order ${orderId}: no result within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      const list = this.byOrder.get(orderId);
      if (list) list.push(entry);
      else this.byOrder.set(orderId, [entry]);
    });
  }

  /** Settles the oldest request of the result's order; false when none was waiting. */
  resolve(result: ProcessOrderResult): boolean {
    const skips = this.skip.get(result.orderId) ?? 0;
    if (skips > 0) {
      if (skips === 1) this.skip.delete(result.orderId);
      else this.skip.set(result.orderId, skips - 1);
      return false;
    }
    const entry = this.shift(result.orderId);
    if (!entry) return false;
    entry.resolve(result);
    return true;
  }

  /** Rejects the oldest request of `orderId` with a server error; false when none was waiting. */
  reject(orderId: string, err: ServerError): boolean {
    const entry = this.shift(orderId);
    if (!entry) return false;
    entry.reject(err);
    return true;
  }

  /** The order ids with a request waiting. */
  orderIds(): string[] {
    return [...this.byOrder.keys()];
  }

  /** Rejects everything (the connection closed: results can no longer arrive). */
  rejectAll(reason: string): void {
    const all = [...this.byOrder.entries()];
    this.byOrder.clear();
    this.skip.clear();
    for (const [orderId, list] of all)
      for (const e of list) {
        clearTimeout(e.timer);
        e.reject(new DisconnectedError(`process_order ${orderId}: ${reason}`));
      }
  }

  /** Requests waiting. */
  get size(): number {
    let n = 0;
    for (const l of this.byOrder.values()) n += l.length;
    return n;
  }

  private shift(orderId: string): Pending | undefined {
    const list = this.byOrder.get(orderId);
    const entry = list?.shift();
    if (list && list.length === 0) this.byOrder.delete(orderId);
    if (entry) clearTimeout(entry.timer);
    return entry;
  }

  private remove(orderId: string, entry: Pending): boolean {
    const list = this.byOrder.get(orderId);
    const i = list ? list.indexOf(entry) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.byOrder.delete(orderId);
    return true;
  }
}
