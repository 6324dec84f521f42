import { type RequestId, offsetHead, subscribeErrorKind, subscribeFrame, unsubscribeFrame } from "@orderstream/wire";
import { Backoff } from "./backoff.js";
import { DisconnectedError, ServerError } from "./client-errors.js";
import type { ClientEvents } from "./client-events.js";
import { OffsetTracker } from "./offset-tracker.js";
import type { OrderEvent } from "./protocol.js";
import type { Requests } from "./requests.js";
import { Subscription } from "./subscription.js";
import type { TimerSet } from "./timer-set.js";

/** What the subscriptions need from the client that owns the connection. */
export interface RegistryHost {
  /** Connected (and authenticated, when there is a token): frames may be sent. */
  isOpen(): boolean;
  send(text: string): void;
  emit<K extends "error" | "subscribed" | "recoveryFailed">(event: K, payload: ClientEvents[K]): void;
  requests: Requests;
  /** Cleared when the connection closes, so nothing here outlives its socket. */
  timers: TimerSet;
  /** Backoff settings for retrying a subscribe the edge could not serve (`unavailable`, no reply). */
  retry: { minDelayMs: number; maxDelayMs: number; random: () => number };
}

/** The `subscribed` reply as the registry reads it. */
interface SubscribedReply {
  recovered: boolean;
  offsets: Record<string, string>;
}

/**
 * The client's subscriptions, one per channel, with their last offsets: each is (re)subscribed with
 * its own `subscribe` frame and request id on every connect (any number in flight), resuming from
 * `since`; events are delivered once and in order; refusals end the subscription they answer.
 */
export class SubscriptionRegistry {
  private readonly subs = new Map<string, Subscription>();
  private readonly tracker = new OffsetTracker();
  private readonly retryBackoff: Backoff;

  constructor(
    private readonly host: RegistryHost,
    initialOffsets: Record<string, string>,
  ) {
    this.retryBackoff = new Backoff(host.retry);
    for (const [ch, off] of Object.entries(initialOffsets)) this.tracker.advanceTo(ch, off);
  }

  /** The channel's subscription, made (and sent, when connected) if there is none. */
  subscribe(channel: string): Subscription {
    const existing = this.subs.get(channel);
    if (existing) return existing;
    const sub = new Subscription(channel, {
      unsubscribe: (s) => this.remove(s),
      offset: (ch) => this.tracker.offset(ch),
    });
    this.subs.set(channel, sub);
    if (this.host.isOpen()) this.request(sub);
    return sub;
  }

  /** The channel's subscription, if any. */
  get(channel: string): Subscription | undefined {
    return this.subs.get(channel);
  }

  /** The last offset of every subscribed channel. */
  offsets(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const ch of this.subs.keys()) {
      const o = this.tracker.offset(ch);
      if (o) out[ch] = o;
    }
    return out;
  }

  /** The connection is ready: subscribe to everything, resuming where each channel left off. */
  onOpen(): void {
    for (const sub of this.subs.values()) this.request(sub);
  }

  /** The connection closed: every subscription waits for the next one. */
  onClose(): void {
    for (const sub of this.subs.values()) sub.setState("subscribing");
  }

  /** An event frame: handed to its channel's subscription unless it is a duplicate. */
  deliver(ev: OrderEvent): void {
    const sub = this.subs.get(ev.channel);
    if (!sub) return;
    const prev = offsetHead(this.tracker.offset(ev.channel));
    if (!this.tracker.accept(ev.channel, ev.offset)) return;
    // Another epoch under a live subscription: the server lost the channel's history, so events
    // of the old epoch may never have reached us. Say so, as a failed resume does.
    const next = offsetHead(ev.offset);
    if (prev && next && prev.epoch !== next.epoch) this.host.emit("recoveryFailed", { channels: [ev.channel] });
    sub.deliver(ev);
  }

  private remove(sub: Subscription): void {
    if (this.subs.get(sub.channel) !== sub) return;
    this.subs.delete(sub.channel);
    this.tracker.forget(sub.channel);
    if (this.host.isOpen()) this.host.send(unsubscribeFrame([sub.channel], this.host.requests.nextId()));
  }

  private request(sub: Subscription): void {
    const ch = sub.channel;
    const off = this.tracker.offset(ch);
    const since: Record<string, string> = off ? { [ch]: off } : {};
    const id: RequestId = this.host.requests.nextId();
    sub.setState("subscribing");
    this.host.requests.expect<SubscribedReply>(
      id,
      `subscribe ${ch}`,
      (reply) => this.onSubscribed(sub, reply, off !== undefined),
      (err) => this.onFailed(sub, err),
    );
    this.host.send(subscribeFrame([ch], since, id));
  }

  private onSubscribed(sub: Subscription, reply: SubscribedReply, resumed: boolean): void {
    if (this.subs.get(sub.channel) !== sub) return;
    this.retryBackoff.reset();
    const off = reply.offsets[sub.channel];
    if (off) this.tracker.advanceTo(sub.channel, off);
    sub.confirmed(reply.recovered);
    this.host.emit("subscribed", { channels: [sub.channel], recovered: reply.recovered });
    if (!reply.recovered && resumed) this.host.emit("recoveryFailed", { channels: [sub.channel] });
  }

  /** A refusal ends the subscription; `unavailable`, `internal` and no reply in time are retried after a backoff. */
  private onFailed(sub: Subscription, err: Error): void {
    if (this.subs.get(sub.channel) !== sub || err instanceof DisconnectedError) return;
    const failure = err instanceof ServerError ? new ServerError(err.code, err.message, [sub.channel]) : err;
    this.host.emit("error", failure);
    if (err instanceof ServerError && subscribeErrorKind(err.code) === "fatal") {
      this.subs.delete(sub.channel);
      this.tracker.forget(sub.channel);
      sub.refused(failure);
      return;
    }
    sub.report(failure);
    this.host.timers.after(() => {
      if (this.subs.get(sub.channel) === sub && this.host.isOpen()) this.request(sub);
    }, this.retryBackoff.next());
  }
}
