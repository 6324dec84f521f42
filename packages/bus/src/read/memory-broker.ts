/** The in-memory backend of the broker contract: deterministic tests of ordering and recovery. */
import type { StreamPosition } from "@orderstream/wire";
import type { Broker, BrokerHandler, HistoryRead } from "./broker.js";
import { newEpoch } from "../layout/history-options.js";
import { isAllOrders, publicChannel } from "../layout/keys.js";

interface MemoryStream {
  epoch: string;
  seq: number;
  /** Frames by sequence: `frames[i]` has sequence `first + i`. */
  frames: string[];
  first: number;
}

/**
 * An in-memory event bus shared by the {@link MemoryBroker}s of several simulated nodes: capped
 * per-channel histories with epochs and offsets, and live delivery to every node subscribed to a
 * channel, on a later tick as over a network. It makes the ordering and recovery logic of
 * {@link ChannelFeed} testable without Redis, deterministically, including the faults Redis has:
 * a dropped subscriber connection, a lost frame, lost history (a new epoch).
 */
export class MemoryBus {
  private readonly streams = new Map<string, MemoryStream>();
  private readonly nodes = new Set<MemoryBroker>();

  constructor(private readonly historySize = 1000) {}

  /** A broker for one node of the bus. */
  broker(): MemoryBroker {
    const b = new MemoryBroker(this);
    this.nodes.add(b);
    return b;
  }

  /**
   * Appends an event to a channel's history and publishes it to every subscribed node; returns its
   * offset. `drop` loses the live message (history keeps it), as a message lost on the way.
   */
  publish(channel: string, type: string, dataJson: string, opts: { drop?: boolean } = {}): string {
    const st = this.stream(channel, true) as MemoryStream;
    st.seq++;
    const offset = `${st.epoch}:${st.seq}`;
    const frame = `{"type":${JSON.stringify(type)},"channel":${JSON.stringify(publicChannel(channel))},"offset":"${offset}","data":${dataJson}}`;
    if (st.frames.length === 0) st.first = st.seq;
    st.frames.push(frame);
    if (st.frames.length > this.historySize) {
      st.frames.shift();
      st.first++;
    }
    if (!opts.drop) for (const node of this.nodes) node.deliver(channel, frame);
    return offset;
  }

  /** Loses every channel's history and position, as a Redis that lost its data. */
  loseHistory(): void {
    this.streams.clear();
  }

  /** How many nodes hold a live subscription to `channel` (PUBSUB NUMSUB). */
  numsub(channel: string): number {
    let n = 0;
    for (const node of this.nodes) if (node.holds(channel)) n++;
    return n;
  }

  /** @internal */
  stream(channel: string, create: boolean): MemoryStream | undefined {
    let st = this.streams.get(channel);
    if (!st && create) {
      st = { epoch: newEpoch(), seq: 0, frames: [], first: 1 };
      this.streams.set(channel, st);
    }
    return st;
  }

  /** @internal */
  detach(node: MemoryBroker): void {
    this.nodes.delete(node);
  }
}

/** One node's connection to a {@link MemoryBus}. */
export class MemoryBroker implements Broker {
  private handler: BrokerHandler | undefined;
  private readonly subscribed = new Set<string>();
  private connected = true;
  /** When set, the next subscribe fails with this error (a Redis that refuses). */
  failNextSubscribe: Error | undefined;

  constructor(private readonly bus: MemoryBus) {}

  isConnected(): boolean {
    return this.connected;
  }

  setHandler(handler: BrokerHandler): void {
    this.handler = handler;
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    await Promise.resolve();
    const err = this.failNextSubscribe;
    if (err) {
      this.failNextSubscribe = undefined;
      throw err;
    }
    for (const c of channels) this.subscribed.add(c);
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    for (const c of channels) this.subscribed.delete(c);
  }

  async readSince(channel: string, since: StreamPosition, maxCount: number): Promise<HistoryRead> {
    await Promise.resolve();
    const st = this.bus.stream(channel, false);
    const top = st ? { epoch: st.epoch, seq: st.seq } : { epoch: "", seq: 0 };
    if (!st || st.epoch !== since.epoch || since.seq > st.seq) return { recovered: false, frames: [], top };
    if (since.seq + 1 < st.first && since.seq < st.seq) return { recovered: false, frames: [], top };
    const from = since.seq + 1 - st.first;
    const frames = st.frames.slice(from, from + maxCount);
    if (since.seq + frames.length !== st.seq) return { recovered: false, frames: [], top };
    return { recovered: true, frames, top };
  }

  async position(channel: string): Promise<StreamPosition> {
    await Promise.resolve();
    const st = this.bus.stream(channel, isAllOrders(publicChannel(channel)));
    return st ? { epoch: st.epoch, seq: st.seq } : { epoch: "", seq: 0 };
  }

  /** Loses the connection: live messages published until {@link reconnect} never arrive. */
  disconnect(): void {
    this.connected = false;
  }

  /** Restores the connection and its subscriptions, and says so (the feed then repairs gaps). */
  reconnect(): void {
    this.connected = true;
    setImmediate(() => this.handler?.onResubscribed());
  }

  /** Leaves the bus for good. */
  close(): void {
    this.bus.detach(this);
  }

  /** @internal */
  holds(channel: string): boolean {
    return this.connected && this.subscribed.has(channel);
  }

  /** @internal */
  deliver(channel: string, frame: string): void {
    if (!this.holds(channel)) return;
    setImmediate(() => {
      if (this.holds(channel)) this.handler?.onFrame(channel, frame);
    });
  }
}
