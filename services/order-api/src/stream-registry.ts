/**
 * The long-lived calls in flight (SubscribeOrders, ProcessOrders, health Watch), so a graceful
 * shutdown can end them instead of waiting for clients that never hang up.
 */
export class StreamRegistry {
  private readonly closers = new Set<() => void>();
  private closing = false;

  /** Number of calls registered. */
  get size(): number {
    return this.closers.size;
  }

  /** Registers a call's closer; returns the function that unregisters it. Closes at once when draining. */
  add(close: () => void): () => void {
    if (this.closing) {
      close();
      return () => undefined;
    }
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  /** Ends every registered call (and any registered later). */
  closeAll(): void {
    this.closing = true;
    for (const close of [...this.closers]) {
      this.closers.delete(close);
      close();
    }
  }
}
