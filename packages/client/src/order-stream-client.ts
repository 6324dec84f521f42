import { CLOSE_CODES, SUBPROTOCOL, connectFrame, processOrderFrame, refreshFrame, shouldReconnectAfter } from "@orderstream/wire";
import { Backoff } from "./backoff.js";
import { ConnectionError, DisconnectedError, ServerError, UnauthorizedError, describeError } from "./client-errors.js";
import type { ClientEvents, ConnectionState, EventHandler } from "./client-events.js";
import { type ClientOptions, type ResolvedOptions, type WebSocketLike, resolveOptions, resolveToken } from "./client-options.js";
import type { OrderAction, ProcessOrderResult, ServerFrame } from "./protocol.js";
import { parseServerFrame } from "./protocol.js";
import { Requests } from "./requests.js";
import type { Subscription } from "./subscription.js";
import { SubscriptionRegistry } from "./subscription-registry.js";
import { TimerSet } from "./timer-set.js";
import { refreshDelayMs } from "./token-refresh-schedule.js";
import { TypedEmitter } from "./typed-emitter.js";

/**
 * The orderstream WebSocket client: one connection to an edge node (protocol v1: the token goes in
 * a `connect` frame, never in the URL), subscription objects per channel, reconnect with
 * full-jitter backoff over a list of URLs, resume from the last offset of every channel
 * (duplicates dropped), and requests matched to their replies by id. With a token function
 * (`getToken`) the token is refreshed in place before its `exp`; a 4005 close reconnects with a new
 * one, a 4001 asks for a new one once and then stops with an `error`. Works in browsers and Node.
 */
export class OrderStreamClient extends TypedEmitter<ClientEvents> {
  private readonly opts: ResolvedOptions;
  private readonly backoff: Backoff;
  private readonly subs: SubscriptionRegistry;
  private readonly requests: Requests;
  private ws: WebSocketLike | undefined;
  private current: ConnectionState = "closed";
  private wanted = false;
  private generation = 0;
  private urlIndex = 0;
  /** A 4001 already made us ask `getToken()` again since the last `connected`. */
  private authRetried = false;
  private readonly timers = new TimerSet();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ClientOptions) {
    super();
    this.opts = resolveOptions(options);
    const b = { minDelayMs: this.opts.minReconnectDelayMs, maxDelayMs: this.opts.maxReconnectDelayMs, random: this.opts.random };
    this.backoff = new Backoff(b);
    this.requests = new Requests(this.opts.requestTimeoutMs);
    this.subs = new SubscriptionRegistry(
      {
        isOpen: () => this.isOpen(),
        send: (text) => this.send(text),
        emit: (event, payload) => this.emit(event, payload),
        requests: this.requests,
        timers: this.timers,
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
    return this.subs.offsets();
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
    if (wasActive) this.emit("close", { code: CLOSE_CODES.normal, reason: "client closed", willReconnect: false });
    this.setState("closed");
  }

  /**
   * The subscription of `channel` (made on first use, the same object afterwards): its events come
   * in offset order, without duplicates, across reconnects. `handler`, if given, is added as an
   * `event` listener. See {@link Subscription} for states, `ready()` and `for await`.
   */
  subscribe(channel: string, handler?: EventHandler): Subscription {
    const sub = this.subs.subscribe(channel);
    if (handler) sub.on("event", handler);
    return sub;
  }

  /** The subscription of `channel`, if there is one. */
  getSubscription(channel: string): Subscription | undefined {
    return this.subs.get(channel);
  }

  /**
   * Asks the edge to apply `action` (default `process`) to an order. Resolves with the result
   * (check `errorCode`); rejects with a `ServerError` answering it, a timeout, or a disconnect.
   */
  processOrder(orderId: string, action?: OrderAction): Promise<ProcessOrderResult> {
    if (!this.isOpen()) return Promise.reject(new DisconnectedError(`process_order ${orderId}: not connected`));
    const id = this.requests.nextId();
    const result = this.requests.wait<ProcessOrderResult>(id, `process_order ${orderId}`);
    this.send(processOrderFrame(orderId, action, Date.now(), id));
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
    let token: string | undefined;
    try {
      token = await resolveToken(this.opts.token, this.opts.connectTimeoutMs);
      if (gen !== this.generation || !this.wanted) return;
      ws = new this.opts.WebSocket(url, [SUBPROTOCOL]);
    } catch (err) {
      if (gen !== this.generation || !this.wanted) return;
      this.emit("error", new ConnectionError(`cannot connect to ${url}: ${describeError(err)}`, { cause: err }));
      if (gen === this.generation) this.scheduleReconnect(this.backoff.next());
      return;
    }
    this.ws = ws;
    const connectTimer = this.timers.after(() => {
      if (this.ws !== ws || this.current === "open") return;
      this.emit("error", new ConnectionError(`connecting to ${url} timed out after ${this.opts.connectTimeoutMs} ms`));
      this.onSocketClosed(ws, 1006, "connect timeout");
      abandon(ws);
    }, this.opts.connectTimeoutMs);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      if (!token) return this.ready(ws, url, connectTimer, undefined);
      const id = this.requests.nextId();
      this.requests.expect<Extract<ServerFrame, { type: "connected" }>>(
        id,
        "connect",
        (f) => this.ready(ws, url, connectTimer, f),
        (err) => {
          if (this.ws !== ws || err instanceof DisconnectedError) return;
          this.emit("error", err);
          this.onSocketClosed(ws, CLOSE_CODES.abnormal, "connect failed");
          abandon(ws);
        },
      );
      this.send(connectFrame(token, id));
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

  /** The socket is open and (with a token) `connected`: subscribe everything, plan the refresh. */
  private ready(ws: WebSocketLike, url: string, connectTimer: ReturnType<typeof setTimeout>, connected: { user: string; exp: number | undefined } | undefined): void {
    if (this.ws !== ws) return;
    this.timers.cancel(connectTimer);
    this.authRetried = false;
    this.setState("open");
    this.timers.after(() => this.backoff.reset(), this.opts.stableAfterMs);
    if (connected) {
      this.scheduleRefresh(ws, connected.exp);
      this.emit("connected", { user: connected.user, exp: connected.exp });
    }
    this.subs.onOpen();
    this.emit("open", { url });
  }

  private dropSocket(reason: string): void {
    const ws = this.ws;
    this.ws = undefined;
    // No-ops rather than null: `ws` throws on an `error` event nobody listens to.
    if (ws) ws.onopen = ws.onmessage = ws.onerror = ws.onclose = ignore;
    this.subs.onClose();
    this.requests.rejectAll(reason);
  }

  private onSocketClosed(ws: WebSocketLike, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.timers.clear();
    this.dropSocket(`connection closed (${code})`);
    // 4001: the token was refused. Ask getToken() once more; a second 4001 in a row is final.
    const retryAuth = code === CLOSE_CODES.unauthorized && typeof this.opts.token === "function" && !this.authRetried;
    if (retryAuth) this.authRetried = true;
    const willReconnect = this.wanted && (retryAuth || shouldReconnectAfter(code));
    if (!willReconnect) {
      if (this.wanted && code === CLOSE_CODES.unauthorized)
        this.emit("error", new UnauthorizedError(`the edge refused the token (4001 ${reason || "unauthorized"}); not reconnecting`));
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
  private scheduleRefresh(ws: WebSocketLike, exp: number | undefined): void {
    if (this.refreshTimer !== undefined) this.timers.cancel(this.refreshTimer);
    this.refreshTimer = undefined;
    if (typeof this.opts.token !== "function" || exp === undefined || this.ws !== ws) return;
    this.refreshTimer = this.timers.after(() => {
      this.refreshTimer = undefined;
      void this.refresh(ws);
    }, refreshDelayMs(exp, Date.now(), this.opts.refreshMarginMs));
  }

  /** Gets a new token and sends it as a `refresh` frame; the edge answers `refreshed` or `invalid_token`. */
  private async refresh(ws: WebSocketLike): Promise<void> {
    let token: string | undefined;
    try {
      token = await resolveToken(this.opts.token, this.opts.connectTimeoutMs);
    } catch (err) {
      if (this.ws === ws) this.emit("error", new ConnectionError(`token refresh failed: ${describeError(err)}`, { cause: err }));
      return;
    }
    if (this.ws !== ws || !this.isOpen() || !token) return;
    const id = this.requests.nextId();
    this.requests.expect<{ exp: number | undefined }>(
      id,
      "refresh",
      (f) => {
        this.scheduleRefresh(ws, f.exp);
        this.emit("refreshed", { exp: f.exp });
      },
      (err) => {
        if (!(err instanceof DisconnectedError)) this.emit("error", err);
      },
    );
    this.send(refreshFrame(token, id));
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
        return this.subs.deliver(f);
      case "process_order.result":
        this.requests.resolve(f.id, f.result);
        return;
      case "error": {
        const err = new ServerError(f.code as ServerError["code"], f.message);
        if (!this.requests.reject(f.id, err)) this.emit("error", err);
        return;
      }
      default:
        // connected, subscribed, unsubscribed, refreshed: replies to a request of ours (or ignored).
        this.requests.resolve(f.id, f);
    }
  }
}

const ignore = (): void => undefined;

/** Closes a socket that is being given up (browsers may throw on one still connecting). */
function abandon(ws: WebSocketLike): void {
  try {
    ws.close();
  } catch {
    // still CONNECTING in an implementation that refuses close(): the handshake is dropped anyway
  }
}
