import type { OrderEvent } from "./protocol.js";
import { TypedEmitter } from "./typed-emitter.js";

/** Where a subscription stands: asking the edge (again, after a reconnect), receiving, or ended. */
export type SubscriptionState = "subscribing" | "subscribed" | "unsubscribed";

/** The events of a {@link Subscription} and their payloads. */
export interface SubscriptionEvents {
  /** Every event of the channel, once and in order (across reconnects). */
  event: OrderEvent;
  state: SubscriptionState;
  /** The edge confirmed the subscription; `recovered` false means missed events could not be replayed. */
  subscribed: { recovered: boolean };
  /** The edge refused it (it ends: `unsubscribed`) or could not serve it now (it is retried). */
  error: Error;
}

/** What a subscription needs from the client that owns it. */
export interface SubscriptionOwner {
  unsubscribe(sub: Subscription): void;
  offset(channel: string): string | undefined;
}

/**
 * One channel's subscription: its state, its events (`on("event")`, or `for await (const ev of
 * sub)`), `ready()` and `unsubscribe()`. The client resubscribes it on every reconnect, resuming from
 * its last offset, so handlers see each event once and in order.
 */
export class Subscription extends TypedEmitter<SubscriptionEvents> {
  private current: SubscriptionState = "subscribing";
  private failure: Error | undefined;

  constructor(
    /** The channel, e.g. `orders.user.alice`. */
    readonly channel: string,
    private readonly owner: SubscriptionOwner,
  ) {
    super(false);
  }

  /** The subscription's state. */
  get state(): SubscriptionState {
    return this.current;
  }

  /** The last offset received on the channel (where a resume starts). */
  get offset(): string | undefined {
    return this.owner.offset(this.channel);
  }

  /** Resolves once subscribed (at once if it is); rejects if the subscription ends first (refused, or unsubscribed). */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (s: SubscriptionState): boolean => {
        if (s === "subscribed") resolve();
        else if (s === "unsubscribed") reject(this.failure ?? new Error(`subscription to ${this.channel} ended`));
        else return false;
        return true;
      };
      if (check(this.current)) return;
      const off = this.on("state", (s) => {
        if (check(s)) off();
      });
    });
  }

  /** Leaves the channel (a no-op when already unsubscribed); async iterators end. */
  unsubscribe(): void {
    if (this.current === "unsubscribed") return;
    this.owner.unsubscribe(this);
    this.setState("unsubscribed");
  }

  /** The channel's events as an async iterator: ends when unsubscribed, throws if the edge refused the subscription. */
  [Symbol.asyncIterator](): AsyncIterableIterator<OrderEvent> {
    const queue: OrderEvent[] = [];
    let wake: (() => void) | undefined;
    const offs = [
      this.on("event", (ev) => {
        queue.push(ev);
        wake?.();
      }),
      this.on("state", () => wake?.()),
    ];
    const stop = (): IteratorResult<OrderEvent> => {
      for (const off of offs) off();
      return { value: undefined, done: true };
    };
    const it: AsyncIterableIterator<OrderEvent> = {
      next: async () => {
        for (;;) {
          const ev = queue.shift();
          if (ev) return { value: ev, done: false };
          if (this.current === "unsubscribed") {
            stop();
            if (this.failure) throw this.failure;
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
      return: async () => stop(),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** Moves to `s` (called by the client); emits `state` on a change. */
  setState(s: SubscriptionState): void {
    if (s === this.current) return;
    this.current = s;
    this.emit("state", s);
  }

  /** The edge confirmed it (called by the client). */
  confirmed(recovered: boolean): void {
    this.setState("subscribed");
    this.emit("subscribed", { recovered });
  }

  /** The edge refused it for good (called by the client): it ends with `err`. */
  refused(err: Error): void {
    this.failure = err;
    this.emit("error", err);
    this.setState("unsubscribed");
  }

  /** Hands an event to the listeners (called by the client, duplicates already dropped). */
  deliver(ev: OrderEvent): void {
    this.emit("event", ev);
  }

  /** Reports a transient error (called by the client; the subscription is retried). */
  report(err: Error): void {
    this.emit("error", err);
  }
}
