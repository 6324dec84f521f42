import { Backoff } from "./backoff.js";
import { ChannelSubscriptions } from "./channel-subscriptions.js";
import { ConnectionError, DisconnectedError, ServerError } from "./client-errors.js";
import type { ClientEvents, ConnectionState, EventHandler } from "./client-events.js";
import { type ClientOptions, type ResolvedOptions, type WebSocketLike, dialUrl, resolveOptions, resolveToken } from "./client-options.js";
import { shouldReconnect } from "./close-codes.js";
import { describeError, orderNamedIn } from "./error-attribution.js";
import { PendingActions } from "./pending-actions.js";
import { type OrderAction, type ProcessOrderResult, type ServerFrame, parseServerFrame, processOrderFrame, refreshFrame } from "./protocol.js";
import { TimerSet } from "./timer-set.js";
import { refreshDelayMs, tokenExp } from "./token-refresh-schedule.js";
import { TypedEmitter } from "./typed-emitter.js";

const OPEN = 1;

/**
 * The orderstream WebSocket client: one connection to an edge node, per-channel handlers,
 * reconnect with full-jitter backoff over a list of URLs, resume from the last offset of every
 * channel (duplicates dropped), and `processOrder` requests. With a token function (`getToken`)
 * the socket's token is refreshed in place before its `exp`, and a 4005 "token expired" close
 * reconnects with a new one. Works in browsers and Node.
 */
export class OrderStreamClient extends TypedEmitter<ClientEvents> {
  private readonly opts: ResolvedOptions;
  private readonly backoff: Backoff;
  private readonly channels: ChannelSubscriptions;
  private readonly actions: PendingActions;
  private ws: WebSocketLike | undefined;
  private current: ConnectionState = "closed";
  private wanted = false;
  private generation = 0;
  private urlIndex = 0;
  private readonly timers = new TimerSet();
  /** The `exp` of the open socket's token (epoch seconds), when it has one. */
  private tokenExpS: number | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ClientOptions) {
    super();
    this.opts = resolveOptions(options);
    const b = { minDelayMs: this.opts.minReconnectDelayMs, maxDelayMs: this.opts.maxReconnectDelayMs, random: this.opts.random };
    this.backoff = new Backoff(b);
    this.actions = new PendingActions(this.opts.requestTimeoutMs);
    this.channels = new ChannelSubscriptions(
      {
        isOpen: () => this.isOpen(),
        send: (text) => this.send(text),
        emit: (event, payload) => this.emit(event, payload),
        timers: this.timers,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        retry: b,
      },
      this.opts.offsets,
    );
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.current;
  }

  /** The last offset per subscribed channel (save it to resume after a page reload via `offsets`). */
  offsets(): Record<string, string> {
    return this.channels.offsets();
  }

  /** Starts connecting (and keeps reconnecting until {@link close} or a "don't reconnect" close). */
  connect(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.backoff.reset();
    void this.dial();
  }

  /** Closes the connection with 1000 and stops reconnecting; pending requests are rejected. */
  close(): void {
    const wasActive = this.wanted || this.ws !== undefined;
    this.wanted = false;
    this.generation++;
    this.timers.clear();
    const ws = this.ws;
    this.dropSocket("client closed");
    try {
      ws?.close(1000, "client closed");
    } catch (err) {
      this.emit("error", new ConnectionError("closing the socket failed", { cause: err }));
    }
    if (wasActive) this.emit("close", { code: 1000, reason: "client closed", willReconnect: false });
    this.setState("closed");
  }

  /**
   * Calls `handler` for every event on `channel`, in offset order, without duplicates, across
   * reconnects. Returns a function that removes the handler (the last one unsubscribes).
   */
  subscribe(channel: string, handler: EventHandler): () => void {
    return this.channels.add(channel, handler);
  }

  /**
   * Asks the edge to apply `action` (default `process`) to an order. Resolves with the result
   * (check `errorCode`); rejects on an error frame about it, a timeout, or a disconnect.
   */
  processOrder(orderId: string, action?: OrderAction): Promise<ProcessOrderResult> {
    if (!this.isOpen()) return Promise.reject(new DisconnectedError(`process_order ${orderId}: not connected`));
    const result = this.actions.add(orderId);
    this.send(processOrderFrame(orderId, action, Date.now()));
    return result;
  }

  private isOpen(): boolean {
    return this.ws !== undefined && this.current === "open";
  }

  private setState(s: ConnectionState): void {
    if (s === this.current) return;
    this.current = s;
    this.emit("state", s);
  }

  private async dial(): Promise<void> {
    const gen = ++this.generation;
    this.setState("connecting");
    const url = this.opts.urls[this.urlIndex % this.opts.urls.length] as string;
    let ws: WebSocketLike;
    let exp: number | undefined;
    try {
      const token = await resolveToken(this.opts.token, this.opts.connectTimeoutMs);
      if (gen !== this.generation || !this.wanted) return;
      exp = tokenExp(token);
      ws = new this.opts.WebSocket(dialUrl(url, token));
    } catch (err) {
      if (gen !== this.generation || !this.wanted) return;
      this.emit("error", new ConnectionError(`cannot connect to ${url}: ${describeError(err)}`, { cause: err }));
      if (gen === this.generation) this.scheduleReconnect(this.backoff.next());
      return;
    }
    this.ws = ws;
    const connectTimer = this.timers.after(() => {
      if (this.ws !== ws || ws.readyState === OPEN) return;
      this.emit("error", new ConnectionError(`connecting to ${url} timed out after ${this.opts.connectTimeoutMs} ms`));
      this.onSocketClosed(ws, 1006, "connect timeout");
      abandon(ws);
    }, this.opts.connectTimeoutMs);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.timers.cancel(connectTimer);
      this.setState("open");
      this.timers.after(() => this.backoff.reset(), this.opts.stableAfterMs);
      this.tokenExpS = exp;
      this.scheduleRefresh(ws);
      this.channels.onOpen();
      this.emit("open", { url });
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.ws !== ws) return;
      const frame = typeof ev.data === "string" ? parseServerFrame(ev.data) : undefined;
      if (frame) this.onFrame(frame);
      else this.emit("error", new ConnectionError(`unexpected frame from ${url}: ${String(ev.data).slice(0, 200)}`));
    };
    ws.onerror = (ev: unknown) => {
      if (this.ws === ws) this.emit("error", new ConnectionError(`socket error on ${url}: ${describeError(ev)}`));
    };
    ws.onclose = (ev: { code: number; reason: string }) => this.onSocketClosed(ws, ev.code, ev.reason);
  }

  private dropSocket(reason: string): void {
    const ws = this.ws;
    this.ws = undefined;
    // No-ops rather than null: `ws` throws on an `error` event nobody listens to.
    if (ws) ws.onopen = ws.onmessage = ws.onerror = ws.onclose = ignore;
    this.channels.onClose();
    this.actions.rejectAll(reason);
  }

  private onSocketClosed(ws: WebSocketLike, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.timers.clear();
    this.dropSocket(`connection closed (${code})`);
    const willReconnect = this.wanted && shouldReconnect(code);
    if (!willReconnect) {
      this.wanted = false;
      this.emit("close", { code, reason, willReconnect });
      this.setState("closed");
      return;
    }
    const reconnectDelayMs = this.backoff.next();
    const gen = this.generation;
    this.emit("close", { code, reason, willReconnect, reconnectDelayMs });
    if (gen === this.generation) this.scheduleReconnect(reconnectDelayMs); // unless a listener closed or reconnected
  }

  private scheduleReconnect(delayMs: number): void {
    if (!this.wanted) return;
    this.urlIndex++;
    this.setState("connecting");
    this.timers.after(() => void this.dial(), delayMs);
  }

  /** Plans the next in-place token refresh of `ws` (token functions and tokens with `exp` only). */
  private scheduleRefresh(ws: WebSocketLike): void {
    if (this.refreshTimer !== undefined) this.timers.cancel(this.refreshTimer);
    this.refreshTimer = undefined;
    const exp = this.tokenExpS;
    if (typeof this.opts.token !== "function" || exp === undefined || this.ws !== ws) return;
    this.refreshTimer = this.timers.after(() => {
      this.refreshTimer = undefined;
      void this.refresh(ws);
    }, refreshDelayMs(exp, Date.now(), this.opts.refreshMarginMs));
  }

  /** Gets a new token and sends it as a `refresh` frame; the edge answers `refreshed` or an error. */
  private async refresh(ws: WebSocketLike): Promise<void> {
    let token: string | undefined;
    try {
      token = await resolveToken(this.opts.token, this.opts.connectTimeoutMs);
    } catch (err) {
      if (this.ws === ws) this.emit("error", new ConnectionError(`token refresh failed: ${describeError(err)}`, { cause: err }));
      return;
    }
    if (this.ws !== ws || !this.isOpen() || !token) return;
    this.send(refreshFrame(token));
  }

  private send(text: string): void {
    try {
      this.ws?.send(text);
    } catch (err) {
      this.emit("error", new ConnectionError("send failed", { cause: err }));
    }
  }

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case "order.created":
      case "order.status":
        return this.channels.deliver(f);
      case "subscribed":
        return this.channels.onSubscribed(f.channels, f.recovered, f.offsets);
      case "unsubscribed":
        return;
      case "process_order.result":
        this.actions.resolve(f.result);
        return;
      case "refreshed":
        this.tokenExpS = f.exp;
        if (this.ws) this.scheduleRefresh(this.ws);
        this.emit("refreshed", { exp: f.exp });
        return;
      case "error":
        return this.onServerError(f.code, f.message);
    }
  }

  /** Attributes an error frame (the protocol has no request ids) and reports it. */
  private onServerError(code: string, message: string): void {
    const orderId = orderNamedIn(message, this.actions.orderIds());
    if (orderId !== undefined) {
      this.actions.reject(orderId, new ServerError(code, message));
      return;
    }
    if (!this.channels.onError(code, message)) this.emit("error", new ServerError(code, message));
  }
}

const ignore = (): void => undefined;

/** Closes a socket that never opened (browsers may throw on it; it is already forgotten). */
function abandon(ws: WebSocketLike): void {
  try {
    ws.close();
  } catch {
    // still CONNECTING in an implementation that refuses close(): the handshake is dropped anyway
  }
}
