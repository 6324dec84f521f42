import { Backoff } from "./backoff.js";
import { RequestTimeoutError, ServerError } from "./client-errors.js";
import type { ClientEvents, EventHandler } from "./client-events.js";
import { OffsetTracker, parsePosition } from "./offset-tracker.js";
import { type OrderEvent, subscribeFrame, unsubscribeFrame } from "./protocol.js";
import { SubscribeQueue, subscribeErrorKind } from "./subscribe-queue.js";
import type { TimerSet } from "./timer-set.js";

/** What the subscriptions need from the client that owns the connection. */
export interface SubscriptionHost {
  isOpen(): boolean;
  send(text: string): void;
  emit<K extends "error" | "subscribed" | "recoveryFailed">(event: K, payload: ClientEvents[K]): void;
  /** Cleared when the connection closes, so nothing here outlives its socket. */
  timers: TimerSet;
  requestTimeoutMs: number;
  /** Backoff settings for retrying a subscribe the edge could not serve (`unavailable`). */
  retry: { minDelayMs: number; maxDelayMs: number; random: () => number };
}

/**
 * The channels a client wants, their handlers and last offsets: (re)subscribes on every open with
 * `since`, delivers each event once and in order, and handles the edge's replies and refusals.
 */
export class ChannelSubscriptions {
  private readonly handlers = new Map<string, Set<EventHandler>>();
  private readonly tracker = new OffsetTracker();
  private readonly queue = new SubscribeQueue();
  private readonly retryBackoff: Backoff;

  constructor(private readonly host: SubscriptionHost, initialOffsets: Record<string, string>) {
    this.retryBackoff = new Backoff(host.retry);
    for (const [ch, off] of Object.entries(initialOffsets)) this.tracker.advanceTo(ch, off);
  }

  /** Adds a handler; the first one of a channel subscribes. Returns the remover. */
  add(channel: string, handler: EventHandler): () => void {
    let set = this.handlers.get(channel);
    const fresh = set === undefined;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    if (fresh && this.host.isOpen()) this.request([channel]);
    const mine = set;
    return () => {
      if (!mine.delete(handler) || mine.size > 0 || this.handlers.get(channel) !== mine) return;
      this.handlers.delete(channel);
      this.tracker.forget(channel);
      if (this.host.isOpen()) this.host.send(unsubscribeFrame([channel]));
    };
  }

  /** The last offset of every wanted channel. */
  offsets(): Record<string, string> {
    return this.tracker.since(this.handlers.keys());
  }

  /** A connection opened: subscribe to everything, resuming where each channel left off. */
  onOpen(): void {
    this.request([...this.handlers.keys()]);
  }

  /** The connection closed: frames in flight will never be answered. */
  onClose(): void {
    this.queue.clear();
  }

  /** An event frame: handed to the channel's handlers unless it is a duplicate. */
  deliver(ev: OrderEvent): void {
    const set = this.handlers.get(ev.channel);
    if (!set) return;
    const prev = parsePosition(this.tracker.offset(ev.channel));
    if (!this.tracker.accept(ev.channel, ev.offset)) return;
    // Another epoch under a live subscription: the server lost the channel's history, so events
    // of the old epoch may never have reached us. Say so, as a failed resume does.
    const next = parsePosition(ev.offset);
    if (prev && next && prev.epoch !== next.epoch) this.host.emit("recoveryFailed", { channels: [ev.channel] });
    for (const h of [...set]) {
      try {
        h(ev);
      } catch (err) {
        this.host.emit("error", err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** A `subscribed` reply: take its offsets as the starting point, report lost history. */
  onSubscribed(channels: string[], recovered: boolean, offsets: Record<string, string>): void {
    const req = this.queue.settle(channels);
    this.retryBackoff.reset();
    for (const [ch, off] of Object.entries(offsets)) if (this.handlers.has(ch)) this.tracker.advanceTo(ch, off);
    this.host.emit("subscribed", { channels, recovered });
    if (!recovered) this.host.emit("recoveryFailed", { channels: req ? req.resumed : channels });
    if (req) this.pump();
  }

  /**
   * An error frame that may answer the subscribe in flight. Returns false when it is not about
   * subscribing. `forbidden`, `bad_channel`, `too_many_channels` drop the refused channel (after
   * splitting a multi-channel frame to find it); `unavailable`, `internal` retry after a backoff.
   */
  onError(code: string, message: string): boolean {
    const kind = subscribeErrorKind(code);
    const req = kind ? this.queue.fail() : undefined;
    if (!req) return false;
    if (kind === "fatal" && req.channels.length > 1) {
      this.queue.addEachFirst(req.channels);
    } else if (kind === "fatal") {
      for (const ch of req.channels) {
        this.handlers.delete(ch);
        this.tracker.forget(ch);
      }
      this.host.emit("error", new ServerError(code, message, req.channels));
    } else {
      this.host.timers.after(() => this.request(req.channels), this.retryBackoff.next());
      this.host.emit("error", new ServerError(code, message, req.channels));
    }
    this.pump();
    return true;
  }

  private request(channels: string[]): void {
    if (channels.length > 0) this.queue.add(channels);
    this.pump();
  }

  /** Sends the next subscribe frame when none is in flight; one without a reply in time is retried. */
  private pump(): void {
    if (!this.host.isOpen()) return;
    const frame = this.queue.next((ch) => this.handlers.has(ch), (chs) => this.tracker.since(chs));
    if (!frame) return;
    this.host.send(subscribeFrame(frame.channels, frame.since));
    const batch = this.queue.inFlight;
    this.host.timers.after(() => {
      if (!batch || this.queue.inFlight !== batch) return;
      this.queue.fail();
      this.host.emit("error", new RequestTimeoutError(`subscribe ${batch.channels.join(",")}: no reply within ${this.host.requestTimeoutMs} ms`));
      this.request(batch.channels);
    }, this.host.requestTimeoutMs);
  }
}
