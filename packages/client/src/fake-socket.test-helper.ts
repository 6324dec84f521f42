import { createFrameValidator } from "@orderstream/wire/validate";
import { vi } from "vitest";
import type { ClientEvents } from "./client-events.js";
import type { ClientOptions, WebSocketLike } from "./client-options.js";
import { OrderStreamClient } from "./order-stream-client.js";

const validator = createFrameValidator();

/** A frame the client sent, parsed. */
export type Sent = Record<string, unknown> & { type: string; id?: number | string };

/**
 * An in-memory stand-in for a WebSocket, for unit tests of the client's state machine (the real
 * edge is exercised by the *.int.test.ts files). The test plays the server. Every frame the client
 * sends is checked against the protocol's JSON Schema (packages/wire): a mismatch throws.
 */
export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Sent[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.all.push(this);
  }

  /** The newest socket the client made. */
  static last(): FakeSocket {
    const s = FakeSocket.all[FakeSocket.all.length - 1];
    if (!s) throw new Error("no socket was made");
    return s;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    const problem = validator.clientFrameProblem(data);
    if (problem) throw new Error(`the SDK sent a frame that breaks the protocol: ${problem}`);
    this.sent.push(JSON.parse(data) as Sent);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { ...(code !== undefined ? { code } : {}), ...(reason !== undefined ? { reason } : {}) };
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The last frame sent of `type` (and channel, for subscribe / unsubscribe). */
  lastSent(type: string, channel?: string): Sent {
    const f = [...this.sent]
      .reverse()
      .find((s) => s.type === type && (channel === undefined || (s["channels"] as string[])[0] === channel));
    if (!f) throw new Error(`no ${type} ${channel ?? ""} was sent; sent: ${JSON.stringify(this.sent)}`);
    return f;
  }

  /** Answers the last `type` frame sent (for `channel`) with `reply`, carrying its id. */
  answer(type: string, reply: Record<string, unknown>, channel?: string): void {
    this.receive({ ...reply, id: this.lastSent(type, channel).id });
  }

  /** Opens and answers the `connect` frame (when one was sent) with `connected`. */
  openConnected(user = "u1", exp: number | null = null): void {
    this.open();
    if (this.sent.some((s) => s.type === "connect")) this.answer("connect", { type: "connected", user, exp });
  }

  /** Answers the subscribe of `channel` with `subscribed`. */
  subscribed(channel: string, offset: string, recovered = true): void {
    this.answer("subscribe", { type: "subscribed", channels: [channel], recovered, offsets: { [channel]: offset } }, channel);
  }

  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** What a refused upgrade (HTTP 401/403/503) looks like to a WebSocket user: error, then 1006. */
  refuse(): void {
    this.readyState = 3;
    this.onerror?.({ message: "Unexpected server response: 503" });
    this.onclose?.({ code: 1006, reason: "" });
  }
}

/** A client on FakeSockets, recording its events. */
export function make(extra: Partial<ClientOptions> = {}) {
  const client = new OrderStreamClient({
    url: ["ws://a.test/ws", "ws://b.test/ws"],
    WebSocket: FakeSocket,
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 1000,
    stableAfterMs: 10_000,
    random: () => 0.999999,
    ...extra,
  });
  const events: { [K in keyof ClientEvents]?: ClientEvents[K][] } = {};
  for (const name of ["open", "connected", "close", "error", "state", "recoveryFailed", "subscribed", "refreshed"] as const)
    client.on(name, (p) => ((events[name] ??= []) as unknown[]).push(p));
  return { client, events };
}

/** Lets the token promise and the dial continuation run. */
export const settle = () => vi.advanceTimersByTimeAsync(0);
