/** A listener of one event of an event map. */
export type Listener<T> = (payload: T) => void;

/**
 * A minimal typed event emitter that runs in browsers and Node alike. A listener that throws
 * does not stop the others: its error is re-emitted as `error` (or re-thrown asynchronously when
 * it came from an `error` listener). An `error` nobody listens to goes to `console.warn` (unless
 * switched off).
 */
export class TypedEmitter<Events extends { error: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** @param warnUnhandled whether an `error` nobody listens to goes to `console.warn`. */
  constructor(private readonly warnUnhandled = true) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with {@link on}. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event` with `payload`. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) {
      if (event === "error" && this.warnUnhandled) console.warn("orderstream-client: unhandled error (add an `error` listener):", payload);
      return;
    }
    for (const l of [...set]) {
      try {
        (l as Listener<Events[K]>)(payload);
      } catch (err) {
        if (event === "error") setTimeout(() => { throw err; }, 0);
        else this.emit("error", err as Events["error"]);
      }
    }
  }
}
